"""A stand-in for a service in tests: react to the events it would consume while a block runs.

Many tests fake a peer ("a scheduler that answers every run") by watching some events and answering
them from a background task. :func:`reacting` is that pattern once: the watch opens before the block
(nothing published inside it is missed), the task is named and owned, and it is cancelled and awaited
when the block ends, so no reaction outlives its test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from deis_common.bus import Bus
from deis_common.events.base import Event


@contextlib.asynccontextmanager
async def reacting(
    bus: Bus, *types: type[Event], to: Callable[[Any], Awaitable[None]], app: str | None = None
) -> AsyncIterator[None]:
    """Call ``to(event)`` for every event of ``types`` (of ``app`` only, if given) until the block ends."""
    async with bus.watch(*types, app=app) as watch:

        async def react() -> None:
            async for event in watch.stream():
                if isinstance(event, Event):
                    await to(event)

        names = "+".join(t.__name__ for t in types)
        task = asyncio.create_task(react(), name=f"reacting-to:{names}")
        try:
            yield
        finally:
            # On Python 3.11 a cancellation that lands just as an awaited reply arrives (asyncio.wait_for,
            # under every NATS request) is lost, and the reaction would go on to wait for its next event
            # for ever: ask again until it has stopped.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.1)
            with contextlib.suppress(asyncio.CancelledError):
                await task
