"""``certs.attached`` / ``certs.detached``: certificates served (by SNI) for an app's domains.

A certificate nginx refuses (a key that does not match, PEM that does not parse) is answered with
``routes.rejected``; the routes served before keep serving. Keys are never logged.
"""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.certs import CertAttached, CertDetached
from deis_common.events.state import CertBinding
from deis_router_sync.handlers.outcome import CONCURRENCY, settle_for_domain
from deis_router_sync.sync import RouteSync


def build_router(sync: RouteSync) -> Router:
    router = Router()

    @router.on(CertAttached, name="cert-attached", concurrency=CONCURRENCY)
    async def cert_attached(event: CertAttached, ctx: Context) -> None:
        binding = CertBinding(
            name=event.name, domain=event.domain, certificate=event.certificate, key=event.key
        )
        await settle_for_domain(
            sync, ctx, event.app, event.domain, lambda table, at: table.attach_cert(event.app, binding, at)
        )

    @router.on(CertDetached, name="cert-detached", concurrency=CONCURRENCY)
    async def cert_detached(event: CertDetached, ctx: Context) -> None:
        await settle_for_domain(
            sync,
            ctx,
            event.app,
            event.domain,
            lambda table, at: table.detach_cert(event.app, event.domain, at),
        )

    return router
