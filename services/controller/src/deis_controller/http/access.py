"""The app a request names, once its caller may use the request's method on it (rules: ``domain.access``)."""

from __future__ import annotations

from aiohttp import web

from deis_controller.controller import Work
from deis_controller.domain.access import authorized_app
from deis_controller.http.context import require_user
from deis_controller.records import App, User


async def authorize(
    work: Work, request: web.Request, *, owner_only: bool = False, lock: bool = False
) -> tuple[User, App]:
    """The caller and the app named in the path, once the caller may use ``request.method`` on it."""
    user = require_user(request)
    app = await authorized_app(
        work, user, request.match_info["id"], request.method, owner_only=owner_only, lock=lock
    )
    return user, app
