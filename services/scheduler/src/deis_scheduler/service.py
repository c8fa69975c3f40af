"""Wiring of the scheduler service: backend, reconcilers, handlers, routes watch, ps, resync, autoscaler."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from deis_common.events.scheduler import PS_SUBJECT, PsRequest
from deis_common.service import Service
from deis_common.store import ObjectStore, open_store
from deis_scheduler.autoscaler import Autoscaler
from deis_scheduler.backends.base import Backend
from deis_scheduler.handlers.apps import apps_router
from deis_scheduler.handlers.releases import releases_router
from deis_scheduler.metrics import SchedulerMetrics
from deis_scheduler.ps import ps_handler
from deis_scheduler.reconciler import Reconcilers
from deis_scheduler.resync import Resync
from deis_scheduler.routes import RoutesWatch
from deis_scheduler.settings import SchedulerSettings
from deis_scheduler.sink import BusSink

SERVICE_NAME = "scheduler"


def build(settings: SchedulerSettings, backend: Backend | None = None) -> Service:
    """The scheduler service; ``backend`` replaces the one the settings choose (tests)."""
    service = Service(SERVICE_NAME, settings)
    group = settings.scheduler
    routes = RoutesWatch()
    metrics = SchedulerMetrics(service.registry)
    reconcilers = Reconcilers(group, routes, metrics)
    resync = Resync(lambda: service.bus, reconcilers, group)
    autoscaler = Autoscaler(reconcilers, lambda: service.bus.publish, group)

    @contextlib.asynccontextmanager
    async def runtime(svc: Service) -> AsyncIterator[None]:
        store = open_store(settings.store)
        chosen = backend or make_backend(settings, store, BusSink(svc.bus, metrics))
        await chosen.start()
        await routes.start(svc.bus)
        reconcilers.attach(chosen)
        ps = await svc.bus.serve(PS_SUBJECT, PsRequest, ps_handler(reconcilers), queue=SERVICE_NAME)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await ps.unsubscribe()
            await reconcilers.close()
            await routes.stop()
            await chosen.close()
            await store.close()

    service.add_resource(runtime)
    service.include_router(releases_router(reconcilers))
    service.include_router(apps_router(reconcilers))
    service.add_task("resync", resync.run)
    service.add_task("autoscale", autoscaler.run)
    service.start_consumers_at(resync.start.positions)
    return service


def make_backend(settings: SchedulerSettings, store: ObjectStore, sink: BusSink) -> Backend:
    """The backend the settings choose (the kubernetes one connects when started)."""
    group = settings.scheduler
    if group.backend == "kubernetes":
        from deis_scheduler.backends.kubernetes.backend import KubernetesBackend

        return KubernetesBackend(group.kubernetes, settings, registry=settings.registry, sink=sink)
    if group.backend == "simulated":
        from deis_scheduler.backends.simulated import SimulatedBackend

        return SimulatedBackend(group.simulated)
    from deis_scheduler.backends.local.backend import LocalBackend

    return LocalBackend(group, store, sink)
