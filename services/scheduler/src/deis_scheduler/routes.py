"""Waiting for the router: ``routes.updated`` for an app at (or beyond) a generation.

Every scheduler replica sees every ``routes.updated`` (a plain subscription, not a shared durable), because
the replica that ran a deploy is the one waiting to retire the old processes. A wait only counts events that
arrive after it was registered, so register before publishing ``containers.healthy``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from pydantic import ValidationError

from deis_common.bus import Bus
from deis_common.events.base import Envelope
from deis_common.events.routes import RoutesUpdated

log = structlog.get_logger(__name__)


class Subscribed(Protocol):
    async def unsubscribe(self) -> None: ...


@dataclass(eq=False)
class RouteWait:
    app: str
    generation: int
    done: asyncio.Event = field(default_factory=asyncio.Event)


class RoutesWatch:
    def __init__(self) -> None:
        self._waits: set[RouteWait] = set()
        self._sub: Subscribed | None = None

    async def start(self, bus: Bus) -> None:
        self._sub = await bus.subscribe_raw(RoutesUpdated.subject, self._on_message)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _on_message(self, _: str, data: bytes) -> None:
        try:
            event = Envelope.from_bytes(data).open(RoutesUpdated)
        except ValidationError:
            log.warning("routes.bad_event")
            return
        self.seen(event)

    def seen(self, event: RoutesUpdated) -> None:
        for wait in list(self._waits):
            if wait.app == event.app and event.generation >= wait.generation:
                wait.done.set()

    def expect(self, app: str, generation: int) -> RouteWait:
        wait = RouteWait(app, generation)
        self._waits.add(wait)
        return wait

    async def wait(self, wait: RouteWait, timeout: float) -> bool:
        """True when the router confirmed in time; False after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                await wait.done.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self._waits.discard(wait)

    def forget(self, wait: RouteWait) -> None:
        self._waits.discard(wait)
