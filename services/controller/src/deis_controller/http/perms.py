"""``/v2/apps/<id>/perms`` (collaborators), ``/v2/users`` and ``/v2/admin/perms`` (administrators)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import access, users
from deis_controller.errors import PermissionDenied
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.auth import UserResponse, render_user
from deis_controller.http.context import add, controller, require_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.validation import parse
from deis_controller.records import Admin, User


class UsernameRequest(BaseModel):
    username: str = Field(min_length=1, description="an existing user")


class AppPermsResponse(BaseModel):
    users: list[str]


class AdminResponse(BaseModel):
    username: str
    is_superuser: bool


@doc(response=AppPermsResponse)
async def list_collaborators(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
        names = await access.collaborators(work, app)
    return ok({"users": names})


@doc(request=UsernameRequest, status=201)
async def grant(request: web.Request) -> web.Response:
    data = parse(UsernameRequest, await body(request))
    async with controller(request).work() as work:
        user, app = await authorize(work, request, owner_only=True)
        await access.grant(work, app, user, data.username)
    return web.Response(status=201)


@doc(status=204)
async def revoke(request: web.Request) -> web.Response:
    caller = require_user(request)
    async with controller(request).work() as work:
        await access.revoke(work, caller, request.match_info["id"], request.match_info["username"])
    return empty()


def render_admin(admin: Admin) -> dict[str, Any]:
    return {"username": admin.username, "is_superuser": admin.is_superuser}


def _require_admin(request: web.Request) -> User:
    user = require_user(request)
    if not user.is_superuser:
        raise PermissionDenied()
    return user


@doc(response=UserResponse, paginated=True)
async def list_users(request: web.Request) -> web.Response:
    _require_admin(request)
    return await paginate(request, users.page, render_user)


@doc(response=AdminResponse, paginated=True)
async def list_admins(request: web.Request) -> web.Response:
    _require_admin(request)
    return await paginate(request, users.admins_page, render_admin)


@doc(request=UsernameRequest, status=201)
async def make_admin(request: web.Request) -> web.Response:
    _require_admin(request)
    data = parse(UsernameRequest, await body(request))
    async with controller(request).work() as work:
        await users.set_admin(work, data.username, True)
    return web.Response(status=201)


@doc(status=204)
async def revoke_admin(request: web.Request) -> web.Response:
    _require_admin(request)
    username = request.match_info["username"]
    async with controller(request).work() as work:
        await users.set_admin(work, username, False)
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", APP + "/perms", list_collaborators)
    add(app, "POST", APP + "/perms", grant)
    add(app, "DELETE", APP + "/perms/{username:[-_\\w]+}", revoke)
    add(app, "GET", "/v2/users", list_users)
    add(app, "GET", "/v2/admin/perms", list_admins)
    add(app, "POST", "/v2/admin/perms", make_admin)
    add(app, "DELETE", "/v2/admin/perms/{username:[\\w.@+-]+}", revoke_admin)
