"""Builds finished by the build workers: a completed build becomes a build row and a release.

Idempotent on ``build_id``: a redelivered ``BuildCompleted`` finds its build and does nothing. A build
the release rules refuse publishes ``ReleaseRejected`` with the reason (the push fails with it).
"""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.builds import BuildCompleted, BuildFailed
from deis_controller.controller import Controller
from deis_controller.domain import builds


def router(ctl: Controller) -> Router:
    r = Router()

    @r.on(BuildCompleted, name="build-completed", concurrency=4)
    async def build_completed(event: BuildCompleted, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            reason = await builds.complete(
                work,
                event,
                remove_missing=ctl.settings.deploy_procfile_missing_remove,
                reject_missing=ctl.settings.deploy_reject_if_procfile_missing,
            )
        if reason is not None:
            ctx.log.info("controller.release_rejected", app=event.app, reason=reason)

    @r.on(BuildFailed, name="build-failed")
    async def build_failed(event: BuildFailed, ctx: Context) -> None:
        await ctl.app_log(event.app, f"build {event.build_id[:8]} failed: {event.reason}")

    return r
