"""router-sync's wiring: the route sync (nginx), the snapshot follower and the event handlers.

Each router replica must see every event, so the service (and with it every durable consumer) is named
after the replica: ``router-sync-<instance>``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from deis_common.service import Service
from deis_common.snapshot import StartingPoint
from deis_router_sync.handlers import apps_router, certs_router, containers_router, domains_router
from deis_router_sync.http import add_routes
from deis_router_sync.settings import RouterSyncSettings
from deis_router_sync.snapshot import SnapshotFollower
from deis_router_sync.sync import RouteSync


def build(settings: RouterSyncSettings) -> Service:
    service = Service(f"router-sync-{settings.router.instance}", settings)
    sync = RouteSync(settings.router, settings.platform_domain, service.registry)

    @asynccontextmanager
    async def nginx(_: Service) -> AsyncIterator[RouteSync]:
        async with sync.running():
            yield sync

    service.add_resource(nginx)
    add_routes(service.http, sync)
    for router in (containers_router, domains_router, certs_router, apps_router):
        service.include_router(router(sync))
    service.add_task("sync", sync.run)
    service.add_task("nginx", sync.nginx.watch_owned)

    start = StartingPoint()

    async def snapshot() -> None:
        await SnapshotFollower(service.bus, sync, settings.router, start).run()

    service.add_task("snapshot", snapshot)
    service.start_consumers_at(start.positions)

    async def serving() -> bool:
        return sync.ready and sync.nginx.pid() is not None

    service.add_readiness_check("nginx", serving)
    return service
