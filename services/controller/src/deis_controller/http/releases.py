"""``/v2/apps/<id>/releases``: release history and rollback."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import releases
from deis_controller.errors import BadRequest
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.context import add, controller
from deis_controller.http.inputs import body, path_int
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import ok
from deis_controller.http.rollout import rollout
from deis_controller.records import Release


class RollbackRequest(BaseModel):
    version: int | str | None = Field(None, description="release to roll back to; default current - 1")


class ReleaseResponse(BaseModel):
    uuid: str
    app: str
    owner: str
    version: int
    summary: str
    failed: bool
    config: str
    build: str | None
    created: str
    updated: str


def render(row: Release, app_id: str) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "app": app_id,
        "owner": row.owner,
        "version": row.version,
        "summary": row.summary,
        "failed": row.failed,
        "config": row.config_uuid,
        "build": row.build_uuid,
        "created": row.created,
        "updated": row.updated,
    }


@doc(response=ReleaseResponse, paginated=True)
async def list_releases(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
    page = functools.partial(releases.page, app=app)
    return await paginate(request, page, functools.partial(render, app_id=app.id))


@doc(response=ReleaseResponse)
async def get_release(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
        row = await releases.get(work, app, path_int(request, "version"))
    return ok(render(row, app.id))


@doc(request=RollbackRequest, status=201)
async def rollback(request: web.Request) -> web.Response:
    data = await body(request)
    ctl = controller(request)
    async with rollout(ctl) as deploy:
        async with ctl.work() as work:
            user, app = await authorize(work, request, lock=True)
            row = await releases.rollback(work, app, user.username, data.get("version"))
        if row.build_uuid is not None:
            reason = await deploy.failure(app.id, row.generation)
            if reason is not None:
                raise BadRequest(reason)
    return ok({"version": row.version}, status=201)


def setup(app: web.Application) -> None:
    add(app, "GET", APP + "/releases", list_releases)
    add(app, "GET", APP + "/releases/v{version:[0-9]+}", get_release)
    add(app, "POST", APP + "/releases/rollback", rollback)
