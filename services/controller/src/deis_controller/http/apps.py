"""``/v2/apps``: list, create, show, transfer, destroy, and the app's log."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_common.errors import BusError
from deis_controller.domain import apps as apps_domain
from deis_controller.domain.releases import default_tags
from deis_controller.errors import FieldErrors, Unavailable
from deis_controller.http.access import authorize
from deis_controller.http.context import add, controller, require_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.validation import parse
from deis_controller.records import App

APP = "/v2/apps/{id:[a-z0-9-]+}"


class AppRequest(BaseModel):
    id: str | None = Field(None, description="app name; generated when absent")


class TransferRequest(BaseModel):
    owner: str | None = Field(None, description="username of the new owner")


class AppResponse(BaseModel):
    uuid: str
    id: str
    owner: str
    structure: dict[str, int]
    url: str
    created: str
    updated: str


def render(app: App, platform_domain: str, router_port: int) -> dict[str, Any]:
    port = "" if router_port == 80 else f":{router_port}"
    return {
        "uuid": app.uuid,
        "id": app.id,
        "owner": app.owner,
        "structure": app.structure,
        "url": f"{app.id}.{platform_domain}{port}",
        "created": app.created,
        "updated": app.updated,
    }


def _render(request: web.Request, app: App) -> dict[str, Any]:
    settings = controller(request).settings
    return render(app, settings.platform_domain, settings.router_port)


@doc(response=AppResponse, paginated=True)
async def list_apps(request: web.Request) -> web.Response:
    page = functools.partial(apps_domain.page_visible, user=require_user(request))
    return await paginate(request, page, functools.partial(_render, request))


@doc(request=AppRequest, response=AppResponse, status=201)
async def create_app(request: web.Request) -> web.Response:
    user = require_user(request)
    data = await body(request)
    app_id = data.get("id")
    if app_id is not None and not isinstance(app_id, str):
        raise FieldErrors.one("id", "Not a valid string.")
    ctl = controller(request)
    async with ctl.work() as work:
        app = await apps_domain.create(
            work,
            user.username,
            app_id,
            reserved=ctl.settings.reserved,
            tags=default_tags(ctl.settings.default_config_tags),
        )
    return ok(_render(request, app), status=201)


@doc(response=AppResponse)
async def get_app(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
    return ok(_render(request, app))


@doc(request=TransferRequest)
async def transfer_app(request: web.Request) -> web.Response:
    new_owner = parse(TransferRequest, await body(request)).owner
    async with controller(request).work() as work:
        user, app = await authorize(work, request, lock=True)
        if new_owner:
            await apps_domain.transfer(work, app, user, new_owner)
    return web.Response(status=200)


@doc(status=204)
async def destroy_app(request: web.Request) -> web.Response:
    ctl = controller(request)
    async with ctl.work() as work:
        _, app = await authorize(work, request, lock=True)
        await apps_domain.destroy(work, app)
    try:
        await ctl.bus.delete_log(app.id)
    except BusError:
        pass
    return empty()


@doc()
async def app_logs(request: web.Request) -> web.Response:
    ctl = controller(request)
    async with ctl.read() as work:
        _, app = await authorize(work, request)
    try:
        lines = max(int(request.query.get("log_lines", 100)), 1)
    except ValueError as e:
        raise FieldErrors.one("log_lines", "A valid integer is required.") from e
    try:
        found = await ctl.bus.read_log(app.id, lines)
    except BusError as e:
        raise Unavailable(f"Error accessing logs for {app.id}") from e
    if not found:
        return web.Response(status=204)
    return web.Response(text="\n".join(found) + "\n", content_type="text/plain")


def setup(app: web.Application) -> None:
    add(app, "GET", "/v2/apps", list_apps)
    add(app, "POST", "/v2/apps", create_app)
    add(app, "GET", APP, get_app)
    add(app, "POST", APP, transfer_app)
    add(app, "DELETE", APP, destroy_app)
    add(app, "GET", APP + "/logs", app_logs)
