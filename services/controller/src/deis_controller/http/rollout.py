"""Waiting for a deploy the request caused: the API answers once the new generation runs (or failed).

The watch starts before the change commits, so the scheduler's answer cannot be missed. The wait is
bounded (``deploy_wait``); past it the request succeeds and the deploy carries on in the background.
A failed deploy is reported to the caller (the release itself is marked failed by the event handler).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from deis_common.events.base import Envelope
from deis_common.events.containers import ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.routes import RoutesUpdated
from deis_controller.controller import Controller


class Rollout:
    def __init__(self, queue: asyncio.Queue[Envelope] | None, timeout: float) -> None:
        self._queue = queue
        self._timeout = timeout

    async def failure(self, app: str, generation: int) -> str | None:
        """The reason the deploy of ``generation`` failed; None once it runs (or the wait ran out)."""
        if self._queue is None:
            return None
        try:
            async with asyncio.timeout(self._timeout):
                while True:
                    envelope = await self._queue.get()
                    if envelope.type == ContainersHealthy.subject:
                        healthy = envelope.open(ContainersHealthy)
                        if healthy.app == app and healthy.generation >= generation:
                            return None
                    elif envelope.type == DeployFailed.subject:
                        failed = envelope.open(DeployFailed)
                        if failed.app == app and failed.generation == generation:
                            return failed.reason
        except TimeoutError:
            return None


@contextlib.asynccontextmanager
async def rollout(ctl: Controller) -> AsyncIterator[Rollout]:
    timeout = ctl.settings.deploy_wait
    if timeout <= 0:
        yield Rollout(None, 0)
        return
    async with ctl.bus.watch(ContainersHealthy, DeployFailed) as queue:
        yield Rollout(queue, timeout)


class Routing:
    def __init__(self, queue: asyncio.Queue[Envelope] | None, timeout: float) -> None:
        self._queue = queue
        self._timeout = timeout

    async def applied(self, app: str) -> None:
        """Return once the router has reloaded for ``app`` (or the short wait ran out)."""
        if self._queue is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._timeout):
                while (await self._queue.get()).subject != app:
                    pass


@contextlib.asynccontextmanager
async def routing(ctl: Controller) -> AsyncIterator[Routing]:
    """Watch for the router taking a routing change (domains, certificates, settings) into account."""
    timeout = ctl.settings.route_wait
    if timeout <= 0:
        yield Routing(None, 0)
        return
    async with ctl.bus.watch(RoutesUpdated) as queue:
        yield Routing(queue, timeout)
