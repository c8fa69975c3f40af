"""Sandbox networks (deis_common.netns): what a sandbox reaches on this host, on a real kernel."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from deis_common import netns

pytestmark = pytest.mark.skipif(netns.available() is not None, reason=str(netns.available()))


def host_address() -> str:
    lines = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    return next(line.split()[3].split("/")[0] for line in lines.splitlines() if " lo " not in line)


@pytest_asyncio.fixture
async def listeners() -> AsyncIterator[tuple[int, int]]:
    """Two servers on every host address: one stands for the router, one for anything else."""
    servers = [await asyncio.start_server(lambda r, w: w.close(), "0.0.0.0", 0) for _ in range(2)]
    router, other = (server.sockets[0].getsockname()[1] for server in servers)
    yield router, other
    for server in servers:
        server.close()
    forget = ["nft", "delete", "element", "inet", netns.TABLE, "router_ports", f"{{ {router} }}"]
    await (await asyncio.create_subprocess_exec(*forget)).wait()


async def connects(lease: netns.Lease, host: str, port: int) -> bool:
    proc = await asyncio.create_subprocess_exec(
        *lease.enter(), "timeout", "3", "bash", "-c", f"echo > /dev/tcp/{host}/{port}",
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await proc.wait() == 0


async def test_a_sandbox_reaches_the_routers_ports_on_the_host_and_nothing_else(
    listeners: tuple[int, int],
) -> None:
    router, other = listeners
    await netns.setup(router_ports=[router])
    lease = await netns.allocate("test-netns")
    try:
        address = host_address()
        assert await connects(lease, address, router), "the router's public address is the way to other apps"
        assert not await connects(lease, address, other)
        assert not await connects(lease, lease.gateway, other)
        assert not await connects(lease, "127.0.0.1", router), "the host's loopback is not in the sandbox"
    finally:
        await netns.release(lease)
    assert netns.owned_by("test-netns") == []
