"""``domains.added`` / ``domains.removed``: the custom host names (and wildcards) an app answers."""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.domains import DomainAdded, DomainRemoved
from deis_router_sync.handlers.outcome import CONCURRENCY, settle_for_domain
from deis_router_sync.sync import RouteSync


def build_router(sync: RouteSync) -> Router:
    router = Router()

    @router.on(DomainAdded, name="domain-added", concurrency=CONCURRENCY)
    async def domain_added(event: DomainAdded, ctx: Context) -> None:
        await settle_for_domain(
            sync,
            ctx,
            event.app,
            event.domain,
            lambda table, at: table.add_domain(event.app, event.domain, at),
        )

    @router.on(DomainRemoved, name="domain-removed", concurrency=CONCURRENCY)
    async def domain_removed(event: DomainRemoved, ctx: Context) -> None:
        await settle_for_domain(
            sync,
            ctx,
            event.app,
            event.domain,
            lambda table, at: table.remove_domain(event.app, event.domain, at),
        )

    return router
