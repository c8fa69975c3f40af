"""``domains.added`` / ``domains.removed``: the custom host names (and wildcards) an app answers."""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.domains import DomainAdded, DomainRemoved
from deis_router_sync.handlers.outcome import CONCURRENCY, refuse, settle
from deis_router_sync.routes import InvalidRoute, RouteTable, check_app, check_domain
from deis_router_sync.sync import RouteSync


def build_router(sync: RouteSync) -> Router:
    router = Router()

    @router.on(DomainAdded, name="domain-added", concurrency=CONCURRENCY)
    async def domain_added(event: DomainAdded, ctx: Context) -> None:
        try:
            check_app(event.app)
            check_domain(event.domain)
        except InvalidRoute as e:
            await refuse(ctx, event.app, e)
        at = ctx.envelope.time

        def change(table: RouteTable) -> None:
            table.add_domain(event.app, event.domain, at)

        await settle(sync, ctx, event.app, change)

    @router.on(DomainRemoved, name="domain-removed", concurrency=CONCURRENCY)
    async def domain_removed(event: DomainRemoved, ctx: Context) -> None:
        try:
            check_app(event.app)
            check_domain(event.domain)
        except InvalidRoute as e:
            await refuse(ctx, event.app, e)
        at = ctx.envelope.time

        def change(table: RouteTable) -> None:
            table.remove_domain(event.app, event.domain, at)

        await settle(sync, ctx, event.app, change)

    return router
