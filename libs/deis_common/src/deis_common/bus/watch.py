"""Waiting for the outcome of something this process started: typed, bounded, nothing missed.

A :class:`Watch` is what ``Bus.watch(...)`` yields: the events of the watched types (and, if asked, the
text lines of one core subject) in the order they arrived since the subscription, opened as their event
models. Open the watch *before* the action that causes the outcome, then wait for it with
:meth:`Watch.first` (one event of some types), :meth:`Watch.stream` (everything, for stateful waits and
relays) or :meth:`Watch.arrived` (a look without waiting). Every wait is bounded by a number of seconds
or a shared :class:`Deadline` and ends with :class:`WatchTimeout`, which says what did not come.

It owns no subscription (the bus adapter does) and must not import the NATS client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import structlog
from pydantic import ValidationError

from deis_common.errors import BusError
from deis_common.events.base import Envelope, Event

log = structlog.get_logger(__name__)

E1 = TypeVar("E1", bound=Event)
E2 = TypeVar("E2", bound=Event)
E3 = TypeVar("E3", bound=Event)
E4 = TypeVar("E4", bound=Event)


class WatchTimeout(BusError, TimeoutError):
    """What a watch waited for did not come in time."""


@dataclass(frozen=True)
class Deadline:
    """One point in (event-loop) time that several waits share."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(asyncio.get_running_loop().time() + seconds, seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - asyncio.get_running_loop().time())

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0


Timeout = float | Deadline | None  # seconds from now, a shared deadline, or no bound


def _deadline(timeout: Timeout) -> Deadline | None:
    return Deadline.after(timeout) if isinstance(timeout, float | int) else timeout


def _names(types: tuple[type[Event], ...]) -> str:
    return " or ".join(t.__name__ for t in types) or "event"


class Watch:
    """The items of one watch, oldest first; each is consumed by the wait that reads it."""

    def __init__(
        self, queue: asyncio.Queue[Envelope | str], types: tuple[type[Event], ...], *, app: str | None = None
    ) -> None:
        self._queue = queue
        self._types = {t.subject: t for t in types}
        self._app = app

    async def envelope(self, timeout: Timeout = None) -> Envelope | None:
        """The next envelope as it came (for relaying), or None after ``timeout`` without one."""
        deadline = _deadline(timeout)
        while True:
            item = await self._get(deadline)
            if item is None:
                return None
            if isinstance(item, Envelope) and self._app in (None, item.subject):
                return item

    async def stream(
        self,
        *,
        where: Callable[[Any], bool] | None = None,
        timeout: Timeout = None,
        idle: float | None = None,
    ) -> AsyncIterator[Event | str | None]:
        """Every item as it arrives: events (those matching ``where``), the watched lines, and None after
        each ``idle`` seconds of silence. Raises :class:`WatchTimeout` once ``timeout`` has passed."""
        deadline = _deadline(timeout)
        while True:
            wait = deadline
            if idle is not None and (deadline is None or idle < deadline.remaining()):
                wait = Deadline.after(idle)
            item = await self._next(wait, where)
            if item is not None:
                yield item
            elif wait is deadline:
                assert deadline is not None
                raise WatchTimeout(f"the wait ran out after {deadline.seconds:g}s")
            else:
                yield None

    @overload
    async def first(
        self, t1: type[E1], /, *, where: Callable[[E1], bool] | None = None, timeout: Timeout = None
    ) -> E1: ...

    @overload
    async def first(
        self,
        t1: type[E1],
        t2: type[E2],
        /,
        *,
        where: Callable[[E1 | E2], bool] | None = None,
        timeout: Timeout = None,
    ) -> E1 | E2: ...

    @overload
    async def first(
        self,
        t1: type[E1],
        t2: type[E2],
        t3: type[E3],
        /,
        *,
        where: Callable[[E1 | E2 | E3], bool] | None = None,
        timeout: Timeout = None,
    ) -> E1 | E2 | E3: ...

    @overload
    async def first(
        self,
        t1: type[E1],
        t2: type[E2],
        t3: type[E3],
        t4: type[E4],
        /,
        *,
        where: Callable[[E1 | E2 | E3 | E4], bool] | None = None,
        timeout: Timeout = None,
    ) -> E1 | E2 | E3 | E4: ...

    async def first(
        self, *types: type[Event], where: Callable[[Any], bool] | None = None, timeout: Timeout = None
    ) -> Event:
        """The first event of one of ``types`` (matching ``where``); the others before it are dropped.

        Raises :class:`WatchTimeout` when none came within ``timeout``.
        """
        deadline = _deadline(timeout)
        while True:
            item = await self._next(deadline)
            if item is None:
                assert deadline is not None
                raise WatchTimeout(f"no {_names(types)} within {deadline.seconds:g}s")
            if self._wanted(item, types, where):
                assert isinstance(item, Event)
                return item

    def arrived(self, *types: type[E1], where: Callable[[E1], bool] | None = None) -> E1 | None:
        """The first event of ``types`` among those already arrived, without waiting (None: none yet).

        Every arrived item it looks at is consumed, as with :meth:`first`.
        """
        while not self._queue.empty():
            item = self._open(self._queue.get_nowait())
            if item is not None and self._wanted(item, types, where):
                assert isinstance(item, Event)
                return item  # type: ignore[return-value]  # _wanted checked it is one of types
        return None

    @staticmethod
    def _wanted(item: Event | str, types: tuple[type[Event], ...], where: Callable[..., bool] | None) -> bool:
        return isinstance(item, types) and (where is None or where(item))

    async def _next(
        self, deadline: Deadline | None, where: Callable[[Any], bool] | None = None
    ) -> Event | str | None:
        """The next item for this watch (a line, or an event matching ``where``), None once ``deadline``
        has passed."""
        while True:
            raw = await self._get(deadline)
            if raw is None:
                return None
            item = self._open(raw)
            if isinstance(item, str) or (item is not None and (where is None or where(item))):
                return item

    async def _get(self, deadline: Deadline | None) -> Envelope | str | None:
        if deadline is None:
            return await self._queue.get()
        if not self._queue.empty():  # what already arrived counts, even past the deadline
            return self._queue.get_nowait()
        try:
            async with asyncio.timeout_at(deadline.at):
                return await self._queue.get()
        except TimeoutError:
            return None

    def _open(self, raw: Envelope | str) -> Event | str | None:
        if isinstance(raw, str):
            return raw
        event_type = self._types.get(raw.type)
        if event_type is None or self._app not in (None, raw.subject):
            return None
        try:
            return event_type.model_validate(raw.data)
        except ValidationError:
            log.warning("bus.watch.bad_event", type=raw.type, event_id=raw.id)
            return None
