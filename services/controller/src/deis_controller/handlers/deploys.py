"""What the scheduler and the router report back: healthy processes, routed generations, failed deploys,
and the local autoscaler's recommendations."""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.containers import ContainersAutoscaled, ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.routes import RoutesUpdated
from deis_controller.controller import Controller
from deis_controller.domain import apps, processes, releases


def router(ctl: Controller) -> Router:
    r = Router()

    @r.on(ContainersHealthy, name="containers-healthy")
    async def containers_healthy(event: ContainersHealthy, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            await processes.record_healthy(work, event)

    @r.on(ContainersAutoscaled, name="containers-autoscaled")
    async def containers_autoscaled(event: ContainersAutoscaled, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            app = await apps.get(work, event.app, lock=True)
            if app is not None:
                await processes.autoscale(work, app, event)

    @r.on(RoutesUpdated, name="routes-updated")
    async def routes_updated(event: RoutesUpdated, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            app = await apps.get(work, event.app, lock=True)
            if app is not None:
                await releases.routed(work, app, event.generation)

    @r.on(DeployFailed, name="deploy-failed")
    async def deploy_failed(event: DeployFailed, ctx: Context) -> None:
        async with ctl.work(ctx.correlation_id) as work:
            app = await apps.get(work, event.app, lock=True)
            if app is not None:
                await releases.deploy_failed(work, app, event.version, event.reason)

    return r
