"""``releases.created``: deploy the release's whole desired state."""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.releases import ReleaseCreated
from deis_scheduler.reconciler import Reconcilers


def releases_router(reconcilers: Reconcilers) -> Router:
    router = Router()

    @router.on(ReleaseCreated, name="release-created", concurrency=16, ack_wait=60)
    async def release_created(event: ReleaseCreated, ctx: Context) -> None:
        ctx.log.info("release.received", app=event.app, version=event.version, generation=event.generation)
        await reconcilers.of(event.app).apply(event.state, ctx.publish)

    return router
