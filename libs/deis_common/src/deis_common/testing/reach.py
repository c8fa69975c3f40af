"""What code inside a sandbox can reach: the probe it runs, the host's addresses, a listener to aim at.

Tests of tenant isolation run :data:`PROBE` inside an app process, a one-off run or a build step (it is plain
Python 3, standard library only) and check its verdicts against targets made with :func:`host_addresses`
and :func:`host_listener`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator

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
