"""Per-app reconciliation: desired state in, running processes out, one app at a time.

Each app has a :class:`AppReconciler` that serializes everything done to that app and remembers the highest
generation applied: older desired states (reordered or redelivered events) are ignored. Applying a desired
state is the rolling deploy of ARCHITECTURE §6: the backend starts what is missing and waits for readiness;
then ``containers.healthy`` (always, even with nothing routable or everything scaled to 0) or
``deploys.failed`` (the old processes untouched); then, once ``routes.updated`` for that generation arrived
(or the routes timeout passed), the replaced processes are stopped.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from deis_common.events.base import Event
from deis_common.events.containers import ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.state import AppState, ProcessInfo
from deis_scheduler.backends.base import Backend, DeployError, Rollout, Selector
from deis_scheduler.metrics import SchedulerMetrics
from deis_scheduler.routes import RoutesWatch, RouteWait
from deis_scheduler.settings import SchedulerGroup

log = structlog.get_logger(__name__)

Publish = Callable[[Event], Awaitable[object]]


@dataclass(frozen=True)
class Outcome:
    applied: bool
    rollout: Rollout | None = None
    failure: DeployError | None = None


class AppReconciler:
    def __init__(
        self,
        app: str,
        backend: Backend,
        routes: RoutesWatch,
        settings: SchedulerGroup,
        metrics: SchedulerMetrics,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.backend = backend
        self.routes = routes
        self.settings = settings
        self.lock = asyncio.Lock()
        self.generation = 0
        self._current: bytes | None = None
        self._retirements: set[asyncio.Task[None]] = set()

    @property
    def current(self) -> AppState | None:
        """The desired state last applied (kept compressed: a scheduler holds one per app, config and all)."""
        if self._current is None:
            return None
        return AppState.model_validate_json(zlib.decompress(self._current))

    @current.setter
    def current(self, state: AppState | None) -> None:
        self._current = None if state is None else zlib.compress(state.model_dump_json().encode(), 1)

    async def apply(
        self,
        state: AppState,
        publish: Publish,
        *,
        quiet: bool = False,
        reported: list[str] | None = None,
    ) -> Outcome:
        """Converge on ``state`` unless a newer generation was applied already.

        ``quiet`` (resyncs) publishes nothing when nothing had to change for a generation already applied,
        or for one whose endpoints the platform already knows (``reported``: the endpoints last reported
        healthy for ``state``'s generation, as the controller's snapshot has them).
        """
        async with self.lock:
            if state.generation < self.generation:
                log.info("desired.stale", app=self.app, generation=state.generation, applied=self.generation)
                self.metrics.desired_states.labels("stale").inc()
                return Outcome(applied=False)
            return await self._converge(state, publish, quiet=quiet, reported=reported)

    async def heal(self, publish: Publish) -> None:
        """Converge quietly on the last applied state (restarts processes whose supervisor died)."""
        async with self.lock:
            current = self.current
            if current is not None:
                await self._converge(current, publish, quiet=True, healing=True)

    async def restart(self, publish: Publish, *, ptype: str | None, process: str | None) -> Outcome:
        """Replace running processes (all, one type, or one by name) with fresh ones, without downtime."""

        def chosen(info: ProcessInfo) -> bool:
            return (ptype is None or info.type == ptype) and (process is None or info.name == process)

        async with self.lock:
            current = self.current
            if current is None:
                return Outcome(applied=False)
            return await self._converge(current, publish, replace=chosen)

    async def destroy(self) -> None:
        async with self.lock:
            for task in list(self._retirements):
                task.cancel()
            await self.settle()
            await self.backend.destroy(self.app)
            self.current = None
            self.generation = 0

    async def _converge(
        self,
        state: AppState,
        publish: Publish,
        *,
        quiet: bool = False,
        replace: Selector | None = None,
        reported: list[str] | None = None,
        healing: bool = False,
    ) -> Outcome:
        started = time.monotonic()
        known = state.generation <= self.generation  # quiet resyncs still report generations new to us
        try:
            rollout = await self.backend.deploy(state, replace=replace, timeout=self.settings.deploy_timeout)
        except DeployError as e:
            self.metrics.deploy_seconds.labels("failed").observe(time.monotonic() - started)
            self.metrics.desired_states.labels("failed").inc()
            log.warning("deploy.failed", app=self.app, generation=state.generation, reason=e.reason)
            self.generation = max(self.generation, state.generation)
            if quiet and healing:
                return Outcome(applied=False, failure=e)
            await publish(
                DeployFailed(
                    app=self.app,
                    generation=state.generation,
                    version=state.version,
                    reason=e.reason,
                    log_tail=e.log_tail,
                )
            )
            return Outcome(applied=False, failure=e)
        self.generation = max(self.generation, state.generation)
        self.current = state
        self.backend.remember(state)
        if reported is not None and sorted(reported) == sorted(rollout.endpoints):
            known = True  # the router has these already (a restart after a report; not news to anyone)
        if quiet and known and not rollout.started and not rollout.retire:
            return Outcome(applied=True, rollout=rollout)
        self.metrics.deploy_seconds.labels("healthy").observe(time.monotonic() - started)
        self.metrics.desired_states.labels("healthy").inc()
        wait = self.routes.expect(self.app, state.generation)
        await publish(
            ContainersHealthy(
                app=self.app,
                generation=state.generation,
                version=state.version,
                endpoints=rollout.endpoints,
                processes=rollout.processes,
            )
        )
        if not rollout.retire:
            self.routes.forget(wait)
            return Outcome(applied=True, rollout=rollout)
        # Retiring waits for the router, up to routes_timeout: outside the app's lock, so the next desired
        # state of the app need not wait for it (the backend no longer plans with the retiring processes).
        task = asyncio.create_task(self._retire(rollout, wait), name=f"scheduler:retire:{self.app}")
        self._retirements.add(task)
        task.add_done_callback(self._retirements.discard)
        return Outcome(applied=True, rollout=rollout)

    async def _retire(self, rollout: Rollout, wait: RouteWait) -> None:
        try:
            if await self.routes.wait(wait, self.settings.routes_timeout):
                await asyncio.sleep(self.settings.drain_delay)  # requests already on their way finish first
            else:
                log.warning("routes.timeout", app=self.app, generation=rollout.generation)
            await self.backend.retire(rollout)
            log.info(
                "deploy.done",
                app=self.app,
                generation=rollout.generation,
                version=rollout.version,
                started=len(rollout.started),
                retired=len(rollout.retire),
            )
        except Exception:
            log.exception("retire.failed", app=self.app, generation=rollout.generation)

    async def settle(self) -> None:
        """Wait for pending retirements (destroy, shutdown)."""
        while self._retirements:
            await asyncio.gather(*self._retirements, return_exceptions=True)


class Reconcilers:
    """All apps' reconcilers, plus the backend they share (attached once the service has started)."""

    def __init__(self, settings: SchedulerGroup, routes: RoutesWatch, metrics: SchedulerMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.routes = routes
        self._backend: Backend | None = None
        self._apps: dict[str, AppReconciler] = {}

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise RuntimeError("the backend is attached when the service starts")
        return self._backend

    def attach(self, backend: Backend) -> None:
        """Use ``backend`` and take over the desired states it remembers from before a restart."""
        self._backend = backend
        self._apps.clear()
        for app, state in backend.remembered().items():
            reconciler = self.of(app)
            reconciler.generation = state.generation
            reconciler.current = state

    def of(self, app: str) -> AppReconciler:
        reconciler = self._apps.get(app)
        if reconciler is None:
            reconciler = self._apps[app] = AppReconciler(
                app, self.backend, self.routes, self.settings, self.metrics
            )
        return reconciler

    def known(self) -> dict[str, AppReconciler]:
        return dict(self._apps)

    async def destroy(self, app: str) -> None:
        await self.of(app).destroy()
        self._apps.pop(app, None)

    async def close(self) -> None:
        """Stop waiting to retire anything; a restarted scheduler retires leftovers when it resyncs."""
        for reconciler in self._apps.values():
            for task in list(reconciler._retirements):
                task.cancel()
            await reconciler.settle()
