"""``apps.settings_changed`` and ``apps.destroyed``: routing switches, whitelist, maintenance, removal."""

from __future__ import annotations

from deis_common.bus import Context, Router
from deis_common.errors import RetryLater
from deis_common.events.apps import AppDestroyed, SettingsChanged
from deis_router_sync.handlers.outcome import CONCURRENCY, RETRY_DELAY, refuse, settle
from deis_router_sync.nginx import ReloadFailed
from deis_router_sync.routes import InvalidRoute, RouteTable, check_app, check_routing
from deis_router_sync.sync import RouteSync


def build_router(sync: RouteSync) -> Router:
    router = Router()

    @router.on(SettingsChanged, name="settings-changed", concurrency=CONCURRENCY)
    async def settings_changed(event: SettingsChanged, ctx: Context) -> None:
        try:
            check_app(event.app)
            check_routing(event.routing)
        except InvalidRoute as e:
            await refuse(ctx, event.app, e)
        at = ctx.envelope.time

        def change(table: RouteTable) -> None:
            table.set_routing(event.app, event.routing, at)

        await settle(sync, ctx, event.app, change)

    @router.on(AppDestroyed, name="app-destroyed", concurrency=CONCURRENCY)
    async def app_destroyed(event: AppDestroyed, ctx: Context) -> None:
        try:
            check_app(event.app)
        except InvalidRoute as e:
            await refuse(ctx, event.app, e)
        at = ctx.envelope.time

        def change(table: RouteTable) -> None:
            table.destroy(event.app, at)

        # Nothing is announced: the app is gone, and no one waits for its routes.
        try:
            await sync.apply(change)
        except ReloadFailed as e:
            raise RetryLater(f"nginx did not drop the app's routes: {e}", delay=RETRY_DELAY) from e

    return router
