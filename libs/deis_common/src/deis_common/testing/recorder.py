"""Records every event on the bus so tests can wait for effects instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from deis_common.bus import Bus
from deis_common.events.base import SUBJECT_PREFIX, Envelope, Event
from deis_common.events.builds import build_log_subject
from deis_common.events.registry import FAMILIES

E = TypeVar("E", bound=Event)

# Build output lines travel inside the builds family's subjects, as plain text, not envelopes.
BUILD_LOG_PREFIX = build_log_subject("")


class EventRecorder:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self._changed = asyncio.Condition()
        self._subs: list[Any] = []

    async def start(self, bus: Bus) -> None:
        async def on_message(subject: str, data: bytes) -> None:
            if subject.startswith(BUILD_LOG_PREFIX):
                return
            envelope = Envelope.from_bytes(data)
            async with self._changed:
                self.envelopes.append(envelope)
                self._changed.notify_all()

        # Event subjects only: listening on request/reply subjects (snapshot, ps) would make this
        # recorder a silent responder, turning "nobody answers" into a timeout.
        for family in FAMILIES:
            self._subs.append(await bus.subscribe_raw(f"{SUBJECT_PREFIX}.{family}.>", on_message))

    async def stop(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()

    def of(self, event_type: type[E]) -> list[E]:
        return [env.open(event_type) for env in self.envelopes if env.type == event_type.subject]

    async def wait_for(
        self, event_type: type[E], *, where: Callable[[E], bool] = lambda _: True, timeout: float = 10.0
    ) -> E:
        """The first recorded ``event_type`` matching ``where``, waiting up to ``timeout`` seconds."""

        def find() -> E | None:
            for event in self.of(event_type):
                if where(event):
                    return event
            return None

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: find() is not None), timeout)
            except TimeoutError:
                seen = sorted({env.type for env in self.envelopes})
                raise AssertionError(f"no {event_type.__name__} within {timeout}s; saw {seen}") from None
        found = find()
        assert found is not None
        return found
