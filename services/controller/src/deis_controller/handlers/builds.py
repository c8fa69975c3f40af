"""Builds finished by the build workers: a completed build becomes a build row and a release.

Idempotent on ``build_id``: a redelivered ``BuildCompleted`` finds its build and does nothing. A build
the release rules refuse publishes ``ReleaseRejected`` with the reason (the push fails with it).
"""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.builds import BuildCompleted, BuildFailed
from deis_common.events.releases import ReleaseRejected
from deis_controller.controller import Controller
from deis_controller.db import apps as apps_db
from deis_controller.db import releases as releases_db
from deis_controller.db import users as users_db
from deis_controller.domain.builds import NewBuild, check_procfile, release_build
from deis_controller.errors import ApiError


def router(ctl: Controller) -> Router:
    r = Router()

    @r.on(BuildCompleted, name="build-completed", concurrency=4)
    async def build_completed(event: BuildCompleted, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            if await releases_db.build_by_event_id(work.tx, event.build_id) is not None:
                return
            app = await apps_db.get(work.tx, event.app, lock=True)
            if app is None:
                await work.emit(
                    ReleaseRejected(
                        app=event.app, build_id=event.build_id, reason=f"app {event.app} does not exist"
                    )
                )
                return
            user = event.user if await users_db.by_username(work.tx, event.user) else app["owner"]
            artifact = event.artifact
            pull = await releases_db.take_pull(work.tx, event.build_id)
            if pull is not None and pull["procfile"] and not artifact.procfile:
                artifact = artifact.model_copy(update={"procfile": pull["procfile"]})
            lines = len(work.lines)
            try:
                async with work.tx.savepoint():
                    await release_build(
                        work,
                        app,
                        user,
                        NewBuild(
                            image=artifact.location,
                            sha=artifact.sha,
                            procfile=check_procfile(dict(artifact.procfile)),
                            dockerfile="Dockerfile" if artifact.kind == "dockerfile" else "",
                            build_id=event.build_id,
                            artifact=artifact.model_dump(mode="json"),
                        ),
                        remove_missing=ctl.settings.deploy_procfile_missing_remove,
                        reject_missing=ctl.settings.deploy_reject_if_procfile_missing,
                    )
            except ApiError as e:
                del work.lines[lines:]
                ctx.log.info("controller.release_rejected", app=event.app, reason=e.detail)
                await work.emit(ReleaseRejected(app=event.app, build_id=event.build_id, reason=e.detail))

    @r.on(BuildFailed, name="build-failed")
    async def build_failed(event: BuildFailed, ctx: Context) -> None:
        await ctl.app_log(event.app, f"build {event.build_id[:8]} failed: {event.reason}")

    return r
