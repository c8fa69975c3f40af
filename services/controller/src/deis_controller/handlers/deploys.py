"""What the scheduler and the router report back: healthy processes, routed generations, failed deploys,
and the local autoscaler's recommendations."""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.containers import ContainersAutoscaled, ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.routes import RoutesUpdated
from deis_controller.controller import Controller
from deis_controller.db import apps as apps_db
from deis_controller.domain import processes, releases


def router(ctl: Controller) -> Router:
    r = Router()

    @r.on(ContainersHealthy, name="containers-healthy")
    async def containers_healthy(event: ContainersHealthy, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            await apps_db.set_healthy(
                work.tx,
                event.app,
                event.generation,
                event.endpoints,
                [p.model_dump(mode="json") for p in event.processes],
            )

    @r.on(ContainersAutoscaled, name="containers-autoscaled")
    async def containers_autoscaled(event: ContainersAutoscaled, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            app = await apps_db.get(work.tx, event.app, lock=True)
            if app is not None:
                await processes.autoscale(work, app, event)

    @r.on(RoutesUpdated, name="routes-updated")
    async def routes_updated(event: RoutesUpdated, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            app = await apps_db.get(work.tx, event.app, lock=True)
            if app is not None:
                await releases.routed(work, app, event.generation)

    @r.on(DeployFailed, name="deploy-failed")
    async def deploy_failed(event: DeployFailed, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            app = await apps_db.get(work.tx, event.app, lock=True)
            if app is not None:
                await releases.deploy_failed(work, app, event.version, event.reason)

    return r
