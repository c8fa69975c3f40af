"""Who may do what to an app — the one place permissions are decided.

Admins may do everything; the owner may do everything to their app; collaborators (``/perms`` grants)
may use every method except DELETE; anyone else gets 403 for an app that exists and 404 otherwise.
"""

from __future__ import annotations

from typing import Literal

from deis_controller.controller import Work
from deis_controller.db import apps as apps_db
from deis_controller.domain import users
from deis_controller.errors import PermissionDenied, found
from deis_controller.records import App, User

Role = Literal["admin", "owner", "collaborator"]


async def role_of(work: Work, app: App, user: User) -> Role | None:
    if user.is_superuser:
        return "admin"
    if app.owner == user.username:
        return "owner"
    if await apps_db.is_collaborator(work.tx, app.uuid, user.username):
        return "collaborator"
    return None


def allowed(role: Role | None, method: str, *, owner_only: bool = False) -> bool:
    if role is None:
        return False
    if role == "collaborator":
        return method != "DELETE" and not owner_only
    return True


async def authorized_app(
    work: Work, user: User, app_id: str, method: str, *, owner_only: bool = False, lock: bool = False
) -> App:
    """The app ``app_id``, once ``user`` may use ``method`` on it."""
    app = found(await apps_db.get(work.tx, app_id, lock=lock), "App")
    if not allowed(await role_of(work, app, user), method, owner_only=owner_only):
        raise PermissionDenied()
    return app


async def may_read(work: Work, app_id: str, user: User) -> bool | None:
    """Whether ``user`` may see the app named ``app_id`` (what a GET on it needs); None: no such app."""
    app = await apps_db.get(work.tx, app_id)
    if app is None:
        return None
    return allowed(await role_of(work, app, user), "GET")


async def readable_apps(work: Work, user: User) -> set[str]:
    """Names of every app ``user`` may see (owner, collaborator; admins see all)."""
    names: set[str] = set()
    page = 500
    while True:
        count, rows = await apps_db.page_visible(work.tx, user.username, user.is_superuser, page, len(names))
        names.update(row.id for row in rows)
        if not rows or len(names) >= count:
            return names


# -- collaborators --------------------------------------------------------------------------------


async def collaborators(work: Work, app: App) -> list[str]:
    return await apps_db.collaborators(work.tx, app.uuid)


async def grant(work: Work, app: App, user: User, username: str) -> None:
    await users.get(work, username)
    await apps_db.grant(work.tx, app.uuid, username)
    work.log(app.id, f"{user.username} added {username} as a collaborator")


async def revoke(work: Work, caller: User, app_id: str, username: str) -> None:
    """Take ``username``'s access away: the owner (or an admin) may, and collaborators may leave."""
    app = found(await apps_db.get(work.tx, app_id), "App")
    await users.get(work, username)
    if caller.username != username:
        await authorized_app(work, caller, app_id, "DELETE", owner_only=True)
    if not await apps_db.revoke(work.tx, app.uuid, username):
        raise PermissionDenied()
    work.log(app.id, f"{caller.username} removed {username} as a collaborator")


async def pusher_app(work: Work, username: str, app_id: str) -> tuple[User, App]:
    """The user pushing to ``app_id`` and the app (locked), once they may push to it."""
    user = await users.get(work, username)
    app = found(await apps_db.get(work.tx, app_id, lock=True), "App")
    if not allowed(await role_of(work, app, user), "POST"):
        raise PermissionDenied()
    return user, app
