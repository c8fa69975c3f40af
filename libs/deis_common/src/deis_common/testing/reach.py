"""What code inside a sandbox can reach: the probe it runs, the host's addresses, a listener to aim at.

Tests of tenant isolation run :data:`PROBE` inside an app process, a one-off run or a build step (it is plain
Python 3, standard library only) and check its verdicts against targets made with :func:`host_addresses`
and :func:`host_listener`. Where the sandbox's attempt is made by a tool that waits long for an answer (a
dropped connection is retried for minutes), :func:`sandbox_syns` tells that it tried and was not answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable

from deis_common import netns

# Tries each host:port of its arguments at once; prints one line "PROBE {target: "connected" | error name}".
PROBE = """
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor

def attempt(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        return "connected"
    except OSError as e:
        return type(e).__name__

def probe(targets):
    with ThreadPoolExecutor(max_workers=64) as pool:
        return dict(zip(targets, pool.map(attempt, targets)))

if __name__ == "__main__":
    print("PROBE " + json.dumps(probe(sys.argv[1:])))
"""


def verdicts(output: str) -> dict[str, str]:
    """The probe's verdicts from a sandbox's output."""
    [line] = [line for line in output.splitlines() if line.startswith("PROBE ")]
    return dict(json.loads(line.removeprefix("PROBE ")))


def host_addresses(loopback: bool = True) -> list[str]:
    """Every IPv4 address of this machine (loopback's too, unless ``loopback`` is False)."""
    lines = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3].split("/")[0] for line in lines.splitlines() if loopback or " lo " not in line]


@contextlib.asynccontextmanager
async def host_listener(seen: list[str] | None = None) -> AsyncIterator[int]:
    """A server on every host address, like any service bound to 0.0.0.0; yields its port. The address of
    each peer it accepts is added to ``seen``."""

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if seen is not None:
            seen.append(str(writer.get_extra_info("peername")[0]))
        writer.close()

    server = await asyncio.start_server(accept, "0.0.0.0", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def sandbox_syns(port: int) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """Counts the connection attempts (TCP SYNs) sandboxes send to ``port`` on any of this host's addresses,
    before the sandbox firewall judges them; yields the count's reader. A SYN is sent again only when the
    first got no answer. A test-only nftables table, removed on exit (needs root)."""
    table = f"deis_test_syns_{port}"
    rules = (
        f"add table inet {table}\n"
        f"add counter inet {table} syns\n"
        f"add chain inet {table} input {{ type filter hook input priority filter - 20; policy accept; }}\n"
        f'add rule inet {table} input iifname "{netns.IFACE}*" tcp dport {port} '
        "tcp flags & (syn | ack) == syn counter name syns\n"
    )
    await _nft("-f", "-", stdin=rules)

    async def count() -> int:
        listed = json.loads(await _nft("-j", "list", "counter", "inet", table, "syns"))
        [counter] = [item["counter"] for item in listed["nftables"] if "counter" in item]
        return int(counter["packets"])

    try:
        yield count
    finally:
        with contextlib.suppress(RuntimeError):
            await _nft("delete", "table", "inet", table)


async def _nft(*args: str, stdin: str | None = None) -> str:
    proc = await asyncio.create_subprocess_exec(
        "nft",
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    if proc.returncode != 0:
        raise RuntimeError(f"nft {' '.join(args)}: {err.decode(errors='replace').strip()}")
    return out.decode()
