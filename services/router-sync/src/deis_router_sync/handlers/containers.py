"""``containers.healthy``: serve the ready endpoints of a generation, then answer ``routes.updated``.

The scheduler waits for that answer before it stops the previous processes, so one is published for
every ``containers.healthy``, with or without endpoints, and only once nginx serves them. An endpoint that
is not ``host:port`` is left out and named in a ``routes.rejected``; the others are still served.
"""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.containers import ContainersHealthy
from deis_common.events.routes import RoutesRejected
from deis_router_sync.handlers.outcome import CONCURRENCY, refuse, settle
from deis_router_sync.routes import InvalidRoute, RouteTable, check_app, check_endpoint
from deis_router_sync.sync import RouteSync


def build_router(sync: RouteSync) -> Router:
    router = Router()

    @router.on(ContainersHealthy, name="containers-healthy", concurrency=CONCURRENCY)
    async def containers_healthy(event: ContainersHealthy, ctx: Context) -> None:
        try:
            check_app(event.app)
        except InvalidRoute as e:
            await refuse(ctx, event.app, e, generation=event.generation)
        endpoints, problems = [], []
        for endpoint in event.endpoints:
            try:
                endpoints.append(check_endpoint(endpoint))
            except InvalidRoute as e:
                problems.append(str(e))
        if problems:
            ctx.log.warning("routes.endpoints_left_out", reason="; ".join(problems))
            await ctx.publish(
                RoutesRejected(app=event.app, generation=event.generation, reason="; ".join(problems))
            )
        at = ctx.envelope.time

        def change(table: RouteTable) -> None:
            table.set_endpoints(event.app, event.generation, endpoints, at)

        await settle(sync, ctx, event.app, change, generation=event.generation)

    return router
