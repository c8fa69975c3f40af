"""Waiting for a deploy the request caused: the API answers once the new generation runs (or failed).

The watch starts before the change commits, so the scheduler's answer cannot be missed. The wait is
bounded (``deploy_wait``); past it the request succeeds and the deploy carries on in the background.
A failed deploy is reported to the caller (the release itself is marked failed by the event handler).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from deis_common.bus import Watch, WatchTimeout
from deis_common.events.containers import ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.routes import RoutesUpdated
from deis_controller.controller import Controller


class Rollout:
    def __init__(self, watch: Watch | None, timeout: float) -> None:
        self._watch = watch
        self._timeout = timeout

    async def failure(self, app: str, generation: int) -> str | None:
        """The reason the deploy of ``generation`` failed; None once it runs (or the wait ran out)."""
        if self._watch is None:
            return None

        def outcome(event: ContainersHealthy | DeployFailed) -> bool:
            if isinstance(event, ContainersHealthy):
                return event.app == app and event.generation >= generation
            return event.app == app and event.generation == generation

        try:
            event = await self._watch.first(
                ContainersHealthy, DeployFailed, where=outcome, timeout=self._timeout
            )
        except WatchTimeout:
            return None
        return event.reason if isinstance(event, DeployFailed) else None


@contextlib.asynccontextmanager
async def rollout(ctl: Controller) -> AsyncIterator[Rollout]:
    timeout = ctl.settings.deploy_wait
    if timeout <= 0:
        yield Rollout(None, 0)
        return
    async with ctl.bus.watch(ContainersHealthy, DeployFailed) as watch:
        yield Rollout(watch, timeout)


class Routing:
    def __init__(self, watch: Watch | None, timeout: float) -> None:
        self._watch = watch
        self._timeout = timeout

    async def applied(self, app: str) -> None:
        """Return once the router has reloaded for ``app`` (or the short wait ran out)."""
        if self._watch is None:
            return
        with contextlib.suppress(WatchTimeout):
            await self._watch.first(RoutesUpdated, where=lambda e: e.app == app, timeout=self._timeout)


@contextlib.asynccontextmanager
async def routing(ctl: Controller) -> AsyncIterator[Routing]:
    """Watch for the router taking a routing change (domains, certificates, settings) into account."""
    timeout = ctl.settings.route_wait
    if timeout <= 0:
        yield Routing(None, 0)
        return
    async with ctl.bus.watch(RoutesUpdated) as watch:
        yield Routing(watch, timeout)
