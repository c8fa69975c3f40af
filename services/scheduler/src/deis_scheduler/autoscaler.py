"""The local autoscaler: ``deis autoscale:set`` on one machine, where no HorizontalPodAutoscaler runs.

Every sync period it reads each process's CPU time from its cgroup (a kernel counter, so the rate between
two readings does not depend on when exactly they were taken), turns it into utilization of the process's
CPU request, and applies the HPA's rules (:mod:`deis_scheduler.autoscale`) to every process type the app
autoscales. It owns nothing but its measurements: the controller owns the structure, so a different replica
count is published as ``containers.autoscaled`` and comes back as ``apps.scaled`` like any ``ps:scale``, which
keeps ``deis ps``, the app's structure and the scheduler in agreement.

The CPU request of a process is the request part of ``limits:set --cpu`` (``250m`` or ``250m/1``), or
``autoscale_cpu_request`` cores when the app set none. Backends whose platform autoscales by itself
(Kubernetes) are left alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from deis_common.events.base import Event
from deis_common.events.containers import ContainersAutoscaled
from deis_common.events.state import AppState
from deis_scheduler.autoscale import Measured, Stabilizer, Target, desired_replicas
from deis_scheduler.limits import LimitError, cpu_request
from deis_scheduler.reconciler import Reconcilers
from deis_scheduler.settings import SchedulerGroup

log = structlog.get_logger(__name__)

Publish = Callable[[Event], Awaitable[object]]


class Autoscaler:
    def __init__(
        self,
        reconcilers: Reconcilers,
        publish: Callable[[], Publish],
        settings: SchedulerGroup,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reconcilers = reconcilers
        self._publish = publish
        self.settings = settings
        self.clock = clock
        self._readings: dict[str, tuple[float, float]] = {}  # process name -> (when, cpu seconds)
        self._stabilizers: dict[tuple[str, str], Stabilizer] = {}
        self._unmeasurable_logged = False

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.autoscale_sync_period)
            backend = self.reconcilers.backend
            if backend.autoscales_itself:
                continue
            try:
                await self.sync()
            except Exception:
                log.exception("autoscale.sync_failed")

    async def sync(self) -> None:
        """One sync of every app that autoscales a process type."""
        seen: set[str] = set()
        for reconciler in self.reconcilers.known().values():
            state = reconciler.current
            if state is None or not state.autoscale:
                continue
            seen |= await self._sync_app(state)
        self._readings = {name: reading for name, reading in self._readings.items() if name in seen}
        wanted = {
            (app, ptype)
            for app, r in self.reconcilers.known().items()
            if r.current is not None
            for ptype in r.current.autoscale
        }
        self._stabilizers = {k: v for k, v in self._stabilizers.items() if k in wanted}

    async def _sync_app(self, state: AppState) -> set[str]:
        backend = self.reconcilers.backend
        now = self.clock()
        used = await backend.cpu_seconds(state.app)
        processes = await backend.processes(state.app)
        rates: dict[str, float] = {}
        for name, seconds in used.items():
            previous = self._readings.get(name)
            self._readings[name] = (now, seconds)
            if previous is not None and now > previous[0]:
                rates[name] = max(0.0, seconds - previous[1]) / (now - previous[0])
        if processes and not used and not self._unmeasurable_logged:
            log.warning("autoscale.unmeasurable", app=state.app, reason="no cgroup accounts for CPU time")
            self._unmeasurable_logged = True
        for ptype, spec in sorted(state.autoscale.items()):
            target = Target(min=spec["min"], max=spec["max"], cpu_percent=spec["cpu_percent"])
            try:
                request = cpu_request(state.cpu.get(ptype)) or self.settings.autoscale_cpu_request
            except LimitError:
                request = self.settings.autoscale_cpu_request
            measured = [
                Measured(
                    ready=p.state == "up",
                    utilization=rates[p.name] / request if p.name in rates else None,
                )
                for p in processes
                if p.type == ptype and p.state in ("up", "starting")
            ]
            current = state.structure.get(ptype, 0)
            stabilizer = self._stabilizers.setdefault(
                (state.app, ptype), Stabilizer(self.settings.autoscale_downscale_stabilization)
            )
            replicas, mean = desired_replicas(
                current, measured, target, stabilizer, now, self.settings.autoscale_tolerance
            )
            log.debug(
                "autoscale.sync", app=state.app, type=ptype, current=current, replicas=replicas, mean=mean
            )
            if replicas != current:
                await self._publish()(
                    ContainersAutoscaled(
                        app=state.app,
                        type=ptype,
                        current=current,
                        replicas=replicas,
                        cpu_percent=round(mean * 100) if mean is not None else None,
                        target_percent=target.cpu_percent,
                    )
                )
        return set(used)
