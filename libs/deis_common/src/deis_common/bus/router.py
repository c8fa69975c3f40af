"""Handler routers: which function handles which event, under which durable consumer.

A router is a plain object; importing a handlers module subscribes nothing. A service's wiring includes
routers explicitly (``service.include_router(router)``), and the runtime turns every registered handler
into a durable pull consumer named ``<service>-<handler>`` shared by all replicas of that service.

Outcomes (see CONVENTIONS): return -> ack; ``RetryLater`` -> nak with its delay; ``Reject`` -> term;
any other exception -> nak with back-off until ``max_deliver``; cancellation -> no ack (redelivered).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from deis_common.events.base import Envelope, Event

if TYPE_CHECKING:
    from deis_common.bus.jetstream import Bus

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Context:
    """What a handler gets beside its event: the bus, the envelope and a bound logger."""

    bus: Bus
    envelope: Envelope
    deliveries: int
    log: structlog.typing.FilteringBoundLogger
    service: str

    @property
    def correlation_id(self) -> str | None:
        return self.envelope.correlation_id or self.envelope.id

    async def publish(self, event: Event) -> Envelope:
        """Publish a follow-up event in the same correlation chain."""
        return await self.bus.publish(event, correlation_id=self.correlation_id)


Handler = Callable[[Any, Context], Awaitable[None]]


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    event_type: type[Event]
    func: Handler
    concurrency: int = 1
    max_deliver: int = 10
    ack_wait: float = 30.0
    deliver_new_only: bool = False
    inactive_threshold: float | None = None


_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass
class Router:
    """A group of handlers, usually one per ``handlers/<family>.py`` module."""

    handlers: list[HandlerSpec] = field(default_factory=list)

    def on(
        self,
        event_type: type[E],
        *,
        name: str | None = None,
        concurrency: int = 1,
        max_deliver: int = 10,
        ack_wait: float = 30.0,
        deliver_new_only: bool = False,
        inactive_threshold: float | None = None,
    ) -> Callable[[Callable[[E, Context], Awaitable[None]]], Callable[[E, Context], Awaitable[None]]]:
        """Register ``func(event, ctx)`` for ``event_type``.

        ``concurrency`` bounds in-flight messages per replica; a long handler keeps its message alive by
        sending progress acks every ``ack_wait / 2`` seconds, so ``ack_wait`` need not cover the work.
        ``deliver_new_only`` makes a new durable start at messages published after its creation.
        ``inactive_threshold`` (seconds) lets the server delete the durable once no replica has pulled
        from it for that long: for per-instance durables whose instances come and go.
        """

        def register(
            func: Callable[[E, Context], Awaitable[None]],
        ) -> Callable[[E, Context], Awaitable[None]]:
            handler_name = (name or func.__name__).replace("_", "-")
            if not _NAME.match(handler_name):
                raise ValueError(f"handler name {handler_name!r} must be lowercase letters, digits, '-'")
            if any(spec.name == handler_name for spec in self.handlers):
                raise ValueError(f"handler {handler_name!r} registered twice")
            self.handlers.append(
                HandlerSpec(
                    name=handler_name,
                    event_type=event_type,
                    func=func,
                    concurrency=concurrency,
                    max_deliver=max_deliver,
                    ack_wait=ack_wait,
                    deliver_new_only=deliver_new_only,
                    inactive_threshold=inactive_threshold,
                )
            )
            return func

        return register
