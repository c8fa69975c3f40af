"""``/v2/apps/<id>/perms`` (collaborators), ``/v2/users`` and ``/v2/admin/perms`` (administrators)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.db import apps as apps_db
from deis_controller.db import users as users_db
from deis_controller.domain.users import User
from deis_controller.errors import NoMatch, PermissionDenied
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.auth import UserResponse
from deis_controller.http.context import add, controller, require_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.validation import parse


class UsernameRequest(BaseModel):
    username: str = Field(min_length=1, description="an existing user")


class AppPermsResponse(BaseModel):
    users: list[str]


class AdminResponse(BaseModel):
    username: str
    is_superuser: bool


@doc(response=AppPermsResponse)
async def list_collaborators(request: web.Request) -> web.Response:
    async with controller(request).db.read() as tx:
        _, app = await authorize(tx, request)
        users = await apps_db.collaborators(tx, app["uuid"])
    return ok({"users": users})


@doc(request=UsernameRequest, status=201)
async def grant(request: web.Request) -> web.Response:
    data = parse(UsernameRequest, await body(request))
    async with controller(request).work() as work:
        user, app = await authorize(work.tx, request, owner_only=True)
        if await users_db.by_username(work.tx, data.username) is None:
            raise NoMatch("User")
        await apps_db.grant(work.tx, app["uuid"], data.username)
        work.log(app["id"], f"{user.username} added {data.username} as a collaborator")
    return web.Response(status=201)


@doc(status=204)
async def revoke(request: web.Request) -> web.Response:
    username = request.match_info["username"]
    caller = require_user(request)
    ctl = controller(request)
    async with ctl.work() as work:
        app = await apps_db.get(work.tx, request.match_info["id"])
        if app is None:
            raise NoMatch("App")
        if await users_db.by_username(work.tx, username) is None:
            raise NoMatch("User")
        if caller.username != username:
            await authorize(work.tx, request, owner_only=True)
        if not await apps_db.revoke(work.tx, app["uuid"], username):
            raise PermissionDenied()
        work.log(app["id"], f"{caller.username} removed {username} as a collaborator")
    return empty()


def _require_admin(request: web.Request) -> User:
    user = require_user(request)
    if not user.is_superuser:
        raise PermissionDenied()
    return user


@doc(response=UserResponse, paginated=True)
async def list_users(request: web.Request) -> web.Response:
    _require_admin(request)

    async def fetch(limit: int, offset: int) -> tuple[int, list[Any]]:
        async with controller(request).db.read() as tx:
            count, rows = await users_db.page(tx, limit, offset)
        return count, [User.from_row(r).public() for r in rows]

    return ok(await paginate(request, fetch))


@doc(response=AdminResponse, paginated=True)
async def list_admins(request: web.Request) -> web.Response:
    _require_admin(request)

    async def fetch(limit: int, offset: int) -> tuple[int, list[Any]]:
        async with controller(request).db.read() as tx:
            return await users_db.admins_page(tx, limit, offset)

    return ok(await paginate(request, fetch))


@doc(request=UsernameRequest, status=201)
async def make_admin(request: web.Request) -> web.Response:
    _require_admin(request)
    data = parse(UsernameRequest, await body(request))
    async with controller(request).work() as work:
        if await users_db.by_username(work.tx, data.username) is None:
            raise NoMatch("User")
        await users_db.set_admin(work.tx, data.username, True)
    return web.Response(status=201)


@doc(status=204)
async def revoke_admin(request: web.Request) -> web.Response:
    _require_admin(request)
    username = request.match_info["username"]
    async with controller(request).work() as work:
        if await users_db.by_username(work.tx, username) is None:
            raise NoMatch("User")
        await users_db.set_admin(work.tx, username, False)
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", APP + "/perms", list_collaborators)
    add(app, "POST", APP + "/perms", grant)
    add(app, "DELETE", APP + "/perms/{username:[-_\\w]+}", revoke)
    add(app, "GET", "/v2/users", list_users)
    add(app, "GET", "/v2/admin/perms", list_admins)
    add(app, "POST", "/v2/admin/perms", make_admin)
    add(app, "DELETE", "/v2/admin/perms/{username:[\\w.@+-]+}", revoke_admin)
