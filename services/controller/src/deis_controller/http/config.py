"""``/v2/apps/<id>/config``: the current release's config, and config changes that make releases."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import releases
from deis_controller.errors import BadRequest
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.context import add, controller
from deis_controller.http.inputs import body, decode_json
from deis_controller.http.openapi import doc
from deis_controller.http.respond import ok
from deis_controller.http.rollout import rollout
from deis_controller.records import CONFIG_SECTIONS, Config

Section = dict[str, Any] | str | None


class ConfigRequest(BaseModel):
    """Each section is an object (or a string holding one); a null value unsets that key."""

    values: Section = Field(None, description="environment variables")
    memory: Section = Field(None, description="process type -> memory limit, e.g. 512M")
    cpu: Section = Field(None, description="process type -> cpu limit, e.g. 500m")
    tags: Section = Field(None, description="node selector labels")
    registry: Section = Field(None, description="private registry credentials")
    healthcheck: Section = Field(None, description="process type -> {livenessProbe, readinessProbe}")


class ConfigResponse(BaseModel):
    uuid: str
    app: str
    owner: str
    values: dict[str, str]
    memory: dict[str, str]
    cpu: dict[str, str]
    tags: dict[str, str]
    registry: dict[str, str]
    healthcheck: dict[str, Any]
    created: str
    updated: str


def render_config(row: Config, app_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"uuid": row.uuid, "app": app_id, "owner": row.owner}
    for name in CONFIG_SECTIONS:
        section = getattr(row, name)
        out[name] = section if name == "healthcheck" else {k: str(v) for k, v in section.items()}
    out["created"] = row.created
    out["updated"] = row.updated
    return out


@doc(response=ConfigResponse)
async def get_config(request: web.Request) -> web.Response:
    async with controller(request).work() as work:
        _, app = await authorize(work, request)
        config = await releases.current_config(work, app)
    return ok(render_config(config, app.id))


@doc(request=ConfigRequest, response=ConfigResponse, status=201)
async def set_config(request: web.Request) -> web.Response:
    ctl = controller(request)
    data = await body(request)
    for name in CONFIG_SECTIONS:  # a section may come as a string holding its JSON
        if isinstance(data.get(name), str):
            data[name] = decode_json(data[name], name)
    async with rollout(ctl) as deploy:
        async with ctl.work() as work:
            user, app = await authorize(work, request, lock=True)
            config, release = await releases.change_config(
                work,
                app,
                user.username,
                data,
                releases.default_tags(ctl.settings.default_config_tags),
                ctl.settings.nodes,
            )
        if release.build_uuid is not None:
            reason = await deploy.failure(app.id, release.generation)
            if reason is not None:
                raise BadRequest(reason)
    return ok(render_config(config, app.id), status=201)


def setup(app: web.Application) -> None:
    add(app, "GET", APP + "/config", get_config)
    add(app, "POST", APP + "/config", set_config)
