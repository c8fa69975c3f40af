"""``/v2/keys``: a user's SSH public keys (each user sees only their own)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.db import UniqueViolation
from deis_controller.db import keys as keys_db
from deis_controller.domain.keys import fingerprint
from deis_controller.errors import FieldErrors, NoMatch
from deis_controller.http.context import add, controller, require_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.validation import parse


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


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("uuid", "id", "owner", "public", "fingerprint", "created", "updated")}


@doc(response=KeyResponse, paginated=True)
async def list_keys(request: web.Request) -> web.Response:
    user = require_user(request)

    async def fetch(limit: int, offset: int) -> tuple[int, list[Any]]:
        async with controller(request).db.read() as tx:
            count, rows = await keys_db.page(tx, user.username, limit, offset)
        return count, [render(r) for r in rows]

    return ok(await paginate(request, fetch))


@doc(request=KeyRequest, response=KeyResponse, status=201)
async def create_key(request: web.Request) -> web.Response:
    user = require_user(request)
    data = parse(KeyRequest, await body(request))
    public = data.public.strip()
    fp = fingerprint(public)
    async with controller(request).work() as work:
        if await keys_db.exists(work.tx, key_id=data.id):
            raise FieldErrors.one("id", "SSH Key with this id already exists.")
        if await keys_db.exists(work.tx, public=public):
            raise FieldErrors.one("public", "Public Key is already in use")
        try:
            row = await keys_db.create(work.tx, user.username, data.id, public, fp)
        except UniqueViolation as e:
            raise FieldErrors.one("public", "Public Key is already in use") from e
    return ok(render(row), status=201)


@doc(response=KeyResponse)
async def get_key(request: web.Request) -> web.Response:
    user = require_user(request)
    async with controller(request).db.read() as tx:
        row = await keys_db.get(tx, user.username, request.match_info["key"])
    if row is None:
        raise NoMatch("Key")
    return ok(render(row))


@doc(status=204)
async def delete_key(request: web.Request) -> web.Response:
    user = require_user(request)
    async with controller(request).work() as work:
        if not await keys_db.delete(work.tx, user.username, request.match_info["key"]):
            raise NoMatch("Key")
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", "/v2/keys", list_keys)
    add(app, "POST", "/v2/keys", create_key)
    app.router.add_route("GET", "/v2/keys/{key:.+}", get_key)
    app.router.add_route("DELETE", "/v2/keys/{key:.+}", delete_key)
