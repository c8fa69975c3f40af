"""The ``apps`` family: scale, restart, one-off runs and destruction."""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.events.apps import AppDestroyed, AppScaled, RestartRequested, RunRequested
from deis_common.events.runs import RunFinished
from deis_scheduler.backends.base import DeployError
from deis_scheduler.reconciler import Reconcilers


def apps_router(reconcilers: Reconcilers) -> Router:
    router = Router()

    @router.on(AppScaled, name="app-scaled", concurrency=16, ack_wait=60)
    async def app_scaled(event: AppScaled, ctx: Context) -> None:
        state = event.state.model_copy(update={"generation": event.generation, "structure": event.structure})
        await reconcilers.of(event.app).apply(state, ctx.publish)

    @router.on(RestartRequested, name="restart-requested", concurrency=16, ack_wait=60)
    async def restart_requested(event: RestartRequested, ctx: Context) -> None:
        await reconcilers.of(event.app).restart(ctx.publish, ptype=event.type, process=event.process)

    @router.on(RunRequested, name="run-requested", concurrency=16, ack_wait=60, max_deliver=1)
    async def run_requested(event: RunRequested, ctx: Context) -> None:
        try:
            result = await reconcilers.backend.run(event.state, event.command, event.timeout_seconds)
        except DeployError as e:
            await ctx.publish(RunFinished(app=event.app, run_id=event.run_id, exit_code=1, output=e.reason))
            return
        except Exception as e:  # the user waits for an answer: never leave a run unanswered
            ctx.log.exception("run.failed", app=event.app, run_id=event.run_id)
            output = f"cannot run the command: {e}"
            await ctx.publish(RunFinished(app=event.app, run_id=event.run_id, exit_code=1, output=output))
            return
        await ctx.publish(
            RunFinished(app=event.app, run_id=event.run_id, exit_code=result.exit_code, output=result.output)
        )

    @router.on(AppDestroyed, name="app-destroyed", concurrency=4, ack_wait=60)
    async def app_destroyed(event: AppDestroyed, ctx: Context) -> None:
        ctx.log.info("app.destroying", app=event.app)
        await reconcilers.destroy(event.app)

    return router
