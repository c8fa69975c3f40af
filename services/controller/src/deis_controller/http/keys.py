"""``/v2/keys``: a user's SSH public keys (each user sees only their own)."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import keys
from deis_controller.http.context import add, controller, require_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.validation import parse
from deis_controller.records import Key


class KeyRequest(BaseModel):
    id: str = Field(min_length=1, max_length=128)
    public: str = Field(min_length=1)


class KeyResponse(BaseModel):
    uuid: str
    id: str
    owner: str
    public: str
    fingerprint: str
    created: str
    updated: str


def render(key: Key) -> dict[str, Any]:
    fields = ("uuid", "id", "owner", "public", "fingerprint", "created", "updated")
    return {k: getattr(key, k) for k in fields}


@doc(response=KeyResponse, paginated=True)
async def list_keys(request: web.Request) -> web.Response:
    page = functools.partial(keys.page, owner=require_user(request).username)
    return await paginate(request, page, render)


@doc(request=KeyRequest, response=KeyResponse, status=201)
async def create_key(request: web.Request) -> web.Response:
    user = require_user(request)
    data = parse(KeyRequest, await body(request))
    async with controller(request).work() as work:
        row = await keys.add(work, user.username, data.id, data.public)
    return ok(render(row), status=201)


@doc(response=KeyResponse)
async def get_key(request: web.Request) -> web.Response:
    user = require_user(request)
    async with controller(request).read() as work:
        row = await keys.get(work, user.username, request.match_info["key"])
    return ok(render(row))


@doc(status=204)
async def delete_key(request: web.Request) -> web.Response:
    user = require_user(request)
    async with controller(request).work() as work:
        await keys.remove(work, user.username, request.match_info["key"])
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", "/v2/keys", list_keys)
    add(app, "POST", "/v2/keys", create_key)
    app.router.add_route("GET", "/v2/keys/{key:.+}", get_key)
    app.router.add_route("DELETE", "/v2/keys/{key:.+}", delete_key)
