"""How a handler turns a route change into events: wait for nginx, then report what it serves.

Every change that nginx now serves is answered with ``routes.updated`` (app, the generation it serves,
its endpoints); a change nginx refused is answered with ``routes.rejected`` and acknowledged, since the
same config would be refused again. A reload that could not happen (nginx down) is retried later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NoReturn

from deis_common.bus import Context
from deis_common.errors import Reject, RetryLater
from deis_common.events.routes import RoutesRejected, RoutesUpdated
from deis_router_sync.nginx import ReloadFailed
from deis_router_sync.routes import InvalidRoute, RouteTable, check_app, check_domain
from deis_router_sync.sync import Change, Outcome, RouteSync

# Handlers of one kind run this many events at once, so a burst lands in one reload.
CONCURRENCY = 256
RETRY_DELAY = 2.0


async def settle(
    sync: RouteSync, ctx: Context, app: str, change: Change, *, generation: int | None = None
) -> Outcome | None:
    """Apply ``change``; publish ``routes.updated`` or ``routes.rejected``. None when rejected."""
    try:
        outcome = await sync.apply(change)
    except ReloadFailed as e:
        raise RetryLater(f"nginx did not take the new routes: {e}", delay=RETRY_DELAY) from e
    if not outcome.served:
        ctx.log.warning("routes.rejected", reason=outcome.reason)
        await ctx.publish(RoutesRejected(app=app, generation=generation, reason=outcome.reason))
        return None
    route = outcome.table.apps.get(app)
    served_generation = route.generation if route is not None else 0
    if generation is not None:
        served_generation = max(served_generation, generation)
    await ctx.publish(
        RoutesUpdated(app=app, generation=served_generation, endpoints=list(route.endpoints) if route else [])
    )
    return outcome


async def refuse(ctx: Context, app: str, error: InvalidRoute, *, generation: int | None = None) -> NoReturn:
    """An event that can never be routed: say so and drop it."""
    await ctx.publish(RoutesRejected(app=app, generation=generation, reason=str(error)))
    raise Reject(str(error)) from error


async def settle_for_domain(
    sync: RouteSync, ctx: Context, app: str, domain: str, change: Callable[[RouteTable, datetime], None]
) -> None:
    """Refuse an app/domain pair that can never be routed; else settle ``change`` at the event's time."""
    try:
        check_app(app)
        check_domain(domain)
    except InvalidRoute as e:
        await refuse(ctx, app, e)
    at = ctx.envelope.time
    await settle(sync, ctx, app, lambda table: change(table, at))
