"""``/v2/apps/<id>/builds``: build history, and builds from an image (``deis pull``)."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import builds
from deis_controller.domain.builds import NewBuild, check_procfile
from deis_controller.errors import BadRequest
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.context import add, controller
from deis_controller.http.inputs import body, decode_json
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.pull import pull
from deis_controller.http.respond import ok
from deis_controller.http.rollout import rollout
from deis_controller.http.validation import parse
from deis_controller.records import Build


class BuildRequest(BaseModel):
    image: str = Field(min_length=1, description="image reference (or slug location)")
    sha: str = Field("", max_length=40, description="git revision the build came from")
    procfile: dict[str, Any] | str | None = Field(None, description="process type -> command")
    dockerfile: str = Field("", description="non-empty when built from a Dockerfile")


class BuildResponse(BaseModel):
    uuid: str
    app: str
    owner: str
    image: str
    sha: str
    procfile: dict[str, str]
    dockerfile: str
    created: str
    updated: str


def render_build(row: Build, app_id: str) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "app": app_id,
        "owner": row.owner,
        "image": row.image,
        "sha": row.sha,
        "procfile": row.procfile,
        "dockerfile": row.dockerfile,
        "created": row.created,
        "updated": row.updated,
    }


def new_build(data: dict[str, Any]) -> NewBuild:
    parsed = parse(BuildRequest, data)
    procfile = parsed.procfile
    if isinstance(procfile, str):
        procfile = decode_json(procfile, "procfile") if procfile.strip() else {}
    return NewBuild(
        image=parsed.image,
        sha=parsed.sha or "",
        procfile=check_procfile(procfile),
        dockerfile=parsed.dockerfile or "",
    )


@doc(response=BuildResponse, paginated=True)
async def list_builds(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
    page = functools.partial(builds.page, app=app)
    return await paginate(request, page, functools.partial(render_build, app_id=app.id))


@doc(request=BuildRequest, response=BuildResponse, status=201)
async def create_build(request: web.Request) -> web.Response:
    ctl = controller(request)
    build = new_build(await body(request))
    if ctl.settings.pull_through_builder and not build.sha and not build.dockerfile:
        async with ctl.read() as work:
            user, app = await authorize(work, request)
        build_id = await pull(ctl, app, user.username, build)
        async with ctl.read() as work:
            row = await builds.by_build_id(work, build_id)
        return ok(render_build(row, app.id), status=201)
    async with rollout(ctl) as deploy:
        async with ctl.work() as work:
            user, app = await authorize(work, request, lock=True)
            row, release = await builds.release_build(
                work,
                app,
                user.username,
                build,
                remove_missing=ctl.settings.deploy_procfile_missing_remove,
                reject_missing=ctl.settings.deploy_reject_if_procfile_missing,
            )
        reason = await deploy.failure(app.id, release.generation)
        if reason is not None:
            raise BadRequest(reason)
    return ok(render_build(row, app.id), status=201)


@doc(response=BuildResponse)
async def get_build(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
        row = await builds.current(work, app)
    return ok(render_build(row, app.id))


def setup(app: web.Application) -> None:
    add(app, "GET", APP + "/builds", list_builds)
    add(app, "POST", APP + "/builds", create_build)
    add(app, "GET", APP + "/builds/{uuid}", get_build)
