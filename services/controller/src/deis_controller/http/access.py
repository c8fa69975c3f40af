"""Who may do what to an app — the one place permissions are decided.

Admins may do everything; the owner may do everything to their app; collaborators (``/perms`` grants)
may use every method except DELETE; anyone else gets 403 for an app that exists and 404 otherwise.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web

from deis_controller.db import Tx
from deis_controller.db import apps as apps_db
from deis_controller.domain.users import User
from deis_controller.errors import NoMatch, PermissionDenied
from deis_controller.http.context import require_user

Role = Literal["admin", "owner", "collaborator"]


async def role_of(tx: Tx, app: dict[str, Any], user: User) -> Role | None:
    if user.is_superuser:
        return "admin"
    if app["owner"] == user.username:
        return "owner"
    if await apps_db.is_collaborator(tx, app["uuid"], user.username):
        return "collaborator"
    return None


def allowed(role: Role | None, method: str, *, owner_only: bool = False) -> bool:
    if role is None:
        return False
    if role == "collaborator":
        return method != "DELETE" and not owner_only
    return True


async def authorize(
    tx: Tx, request: web.Request, *, owner_only: bool = False, lock: bool = False
) -> tuple[User, dict[str, Any]]:
    """The caller and the app named in the path, once the caller may use ``request.method`` on it."""
    user = require_user(request)
    app = await apps_db.get(tx, request.match_info["id"], lock=lock)
    if app is None:
        raise NoMatch("App")
    if not allowed(await role_of(tx, app, user), request.method, owner_only=owner_only):
        raise PermissionDenied()
    return user, app


async def may_read(tx: Tx, app_id: str, user: User) -> bool | None:
    """Whether ``user`` may see the app named ``app_id`` (what a GET on it needs); None: no such app."""
    app = await apps_db.get(tx, app_id)
    if app is None:
        return None
    return allowed(await role_of(tx, app, user), "GET")


async def readable_apps(tx: Tx, user: User) -> set[str]:
    """Names of every app ``user`` may see (owner, collaborator; admins see all)."""
    names: set[str] = set()
    page = 500
    while True:
        count, rows = await apps_db.page_visible(tx, user.username, user.is_superuser, page, len(names))
        names.update(row["id"] for row in rows)
        if not rows or len(names) >= count:
            return names
