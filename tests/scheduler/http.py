"""A tiny HTTP client for reaching app processes on their loopback ports in tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def get(endpoint: str, path: str = "/", timeout: float = 5.0) -> tuple[int, str]:
    """GET http://<endpoint><path>: (status, body)."""
    host, port = endpoint.rsplit(":", 1)
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
        raw = await reader.read()
        writer.close()
    head, _, body = raw.decode(errors="replace").partition("\r\n\r\n")
    return int(head.split()[1]), body


async def reachable(endpoint: str) -> bool:
    try:
        await get(endpoint, timeout=2)
        return True
    except (OSError, TimeoutError, IndexError, ValueError):
        return False


async def eventually(
    condition: Callable[[], Awaitable[T]], timeout: float = 15.0, interval: float = 0.05
) -> T:
    """Poll an async ``condition`` until it returns a truthy value (returned), or fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await condition()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)
