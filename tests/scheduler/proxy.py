"""A stand-in for nginx in front of the scheduler's endpoints: a TCP proxy that routes to the endpoints of
the latest ``containers.healthy`` it has "reloaded" for, round-robin, like router-sync + nginx do."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from tests.scheduler.conftest import StandInRouter


class RoutingProxy:
    def __init__(self, router: StandInRouter, app: str) -> None:
        self.router = router
        self.app = app
        self._counter = itertools.count()
        self._server: asyncio.Server | None = None
        self.port = 0

    def upstream(self) -> str | None:
        routed = [e for e in self.router.routed if e.app == self.app and e.endpoints]
        if not routed:
            return None
        endpoints = routed[-1].endpoints
        return endpoints[next(self._counter) % len(endpoints)]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = self.upstream()
        try:
            if target is None:
                writer.write(b"HTTP/1.0 503 Service Unavailable\r\n\r\n")
                return
            host, port = target.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            request = await reader.readuntil(b"\r\n\r\n")
            up_writer.write(request)
            await up_writer.drain()
            writer.write(await up_reader.read())
            up_writer.close()
        except (OSError, asyncio.IncompleteReadError):
            writer.write(b"HTTP/1.0 502 Bad Gateway\r\n\r\n")
        finally:
            with contextlib.suppress(OSError):
                await writer.drain()
            writer.close()

    async def __aenter__(self) -> RoutingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
