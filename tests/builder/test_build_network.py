"""Build steps run in a network namespace of their own: registries yes, this host no (ARCHITECTURE §6)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from deis_builder.sandbox import Mount, Network, Sandbox
from deis_common import netns

PROBE = """
import json, socket, sys
out = {}
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        out[target] = "connected"
    except OSError as e:
        out[target] = type(e).__name__
print(json.dumps(out))
"""


@pytest_asyncio.fixture
async def host_listener() -> AsyncIterator[int]:
    """A server on every host address, as any service bound to 0.0.0.0 (or NATS on loopback)."""
    server = await asyncio.start_server(lambda r, w: w.close(), "0.0.0.0", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


def host_addresses() -> list[str]:
    lines = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3].split("/")[0] for line in lines.splitlines()]


async def test_a_build_step_reaches_the_package_registry_but_nothing_on_this_host(
    tmp_path: Path, host_listener: int, nats_url: str
) -> None:
    (tmp_path / "probe.py").write_text(PROBE)
    network = Network("builder-test-" + tmp_path.name)
    sandbox = Sandbox(["/etc", "/opt"], network=network)
    nats = nats_url.removeprefix("nats://")
    hosts = [f"{address}:{host_listener}" for address in host_addresses()]  # 127.0.0.1 among them
    argv = ["/usr/bin/python3", "/app/probe.py", "pypi.org:443", nats, *hosts]

    code, output = await sandbox.run(argv, [Mount(tmp_path, "/app")], {"PATH": "/usr/bin:/bin"})

    assert code == 0, output
    results = json.loads(output.strip().splitlines()[-1])
    assert results.pop("pypi.org:443") == "connected"
    assert set(results) == {nats, *hosts}
    assert "connected" not in results.values(), results
    assert netns.owned_by(network.owner) == [], "each step's network goes with it"
