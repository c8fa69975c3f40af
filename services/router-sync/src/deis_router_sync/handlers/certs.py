"""``certs.attached`` / ``certs.detached``: certificates served (by SNI) for an app's domains.

A certificate nginx refuses (a key that does not match, PEM that does not parse) is answered with
``routes.rejected``; the routes served before keep serving. Keys are never logged.
"""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.certs import CertAttached, CertDetached
from deis_common.events.state import CertBinding
from deis_router_sync.handlers.outcome import CONCURRENCY, refuse, settle
from deis_router_sync.routes import InvalidRoute, RouteTable, check_app, check_domain
from deis_router_sync.sync import RouteSync


def build_router(sync: RouteSync) -> Router:
    router = Router()

    @router.on(CertAttached, name="cert-attached", concurrency=CONCURRENCY)
    async def cert_attached(event: CertAttached, ctx: Context) -> None:
        try:
            check_app(event.app)
            check_domain(event.domain)
        except InvalidRoute as e:
            await refuse(ctx, event.app, e)
        at = ctx.envelope.time
        binding = CertBinding(
            name=event.name, domain=event.domain, certificate=event.certificate, key=event.key
        )

        def change(table: RouteTable) -> None:
            table.attach_cert(event.app, binding, at)

        await settle(sync, ctx, event.app, change)

    @router.on(CertDetached, name="cert-detached", concurrency=CONCURRENCY)
    async def cert_detached(event: CertDetached, ctx: Context) -> None:
        try:
            check_app(event.app)
            check_domain(event.domain)
        except InvalidRoute as e:
            await refuse(ctx, event.app, e)
        at = ctx.envelope.time

        def change(table: RouteTable) -> None:
            table.detach_cert(event.app, event.domain, at)

        await settle(sync, ctx, event.app, change)

    return router
