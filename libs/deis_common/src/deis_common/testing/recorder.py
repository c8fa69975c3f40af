"""Records every event on the bus so tests can wait for effects instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from deis_common.bus import Bus
from deis_common.events.base import Envelope, Event
from deis_common.events.logs import LOGS_PREFIX

E = TypeVar("E", bound=Event)

# Build output and app log lines travel under deis.v1 too, as plain text, not envelopes.
PLAIN_TEXT_SUBJECTS = ("deis.v1.builds.log.", f"{LOGS_PREFIX}.")


class EventRecorder:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self._changed = asyncio.Condition()
        self._sub: Any = None

    async def start(self, bus: Bus) -> None:
        async def on_message(subject: str, data: bytes) -> None:
            if subject.startswith(PLAIN_TEXT_SUBJECTS):
                return
            envelope = Envelope.from_bytes(data)
            async with self._changed:
                self.envelopes.append(envelope)
                self._changed.notify_all()

        self._sub = await bus.subscribe_raw("deis.v1.>", on_message)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()

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
