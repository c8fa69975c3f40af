"""``/v2/apps/<id>/settings``, ``/tls`` and ``/whitelist``: how the router treats an app."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import settings as settings_domain
from deis_controller.errors import FieldErrors
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.context import add, controller
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.respond import empty, ok
from deis_controller.http.rollout import routing
from deis_controller.records import AppSettings, Tls


class SettingsRequest(BaseModel):
    maintenance: bool | None = Field(None, description="serve a 503 maintenance page")
    routable: bool | None = Field(None, description="whether the router serves the app at all")
    whitelist: list[str] | None = Field(None, description="addresses/CIDRs allowed in (replaces)")
    autoscale: dict[str, dict[str, int] | None] | None = Field(
        None, description="type -> {min, max, cpu_percent}"
    )
    label: dict[str, Any] | None = Field(None, description="free-form labels; null removes one")


class TLSRequest(BaseModel):
    https_enforced: bool = Field(description="redirect plain HTTP to HTTPS")


class WhitelistRequest(BaseModel):
    addresses: list[str] = Field(description="IP addresses or CIDR networks")


class SettingsResponse(BaseModel):
    uuid: str
    app: str
    owner: str
    maintenance: bool
    routable: bool
    whitelist: list[str]
    autoscale: dict[str, dict[str, int]]
    label: dict[str, Any]
    created: str
    updated: str


class TLSResponse(BaseModel):
    uuid: str
    app: str
    owner: str
    https_enforced: bool | None
    created: str
    updated: str


_SETTINGS_FIELDS = (
    "uuid",
    "owner",
    "created",
    "updated",
    "maintenance",
    "routable",
    "whitelist",
    "autoscale",
    "label",
)


def render(row: AppSettings, app_id: str) -> dict[str, Any]:
    out = {k: getattr(row, k) for k in _SETTINGS_FIELDS}
    out["app"] = app_id
    return out


@doc(response=SettingsResponse)
async def get_settings(request: web.Request) -> web.Response:
    async with controller(request).work() as work:
        _, app = await authorize(work, request)
        row = await settings_domain.current(work, app)
    return ok(render(row, app.id))


@doc(request=SettingsRequest, response=SettingsResponse, status=201)
async def set_settings(request: web.Request) -> web.Response:
    data = await body(request)
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            user, app = await authorize(work, request, lock=True)
            merged = settings_domain.merge(await settings_domain.latest(work, app), data)
            row = await settings_domain.save(work, app, user.username, merged)
        await router.applied(app.id)
    return ok(render(row, app.id), status=201)


@doc(response=TLSResponse)
async def get_tls(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
        row = await settings_domain.latest_tls(work, app)
    return ok(_tls(row, app.id))


def _tls(row: Tls, app_id: str) -> dict[str, Any]:
    fields = ("uuid", "owner", "https_enforced", "created", "updated")
    return {k: getattr(row, k) for k in fields} | {"app": app_id}


@doc(request=TLSRequest, response=TLSResponse, status=201)
async def set_tls(request: web.Request) -> web.Response:
    data = await body(request)
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            user, app = await authorize(work, request, lock=True)
            row = await settings_domain.set_https(work, app, user.username, data.get("https_enforced"))
        await router.applied(app.id)
    return ok(_tls(row, app.id), status=201)


def _addresses(data: dict[str, Any]) -> list[str]:
    if "addresses" not in data:
        raise FieldErrors.one("addresses", "This field is required.")
    return settings_domain.check_addresses(data["addresses"])


@doc(response=WhitelistRequest)
async def get_whitelist(request: web.Request) -> web.Response:
    async with controller(request).work() as work:
        _, app = await authorize(work, request)
        row = await settings_domain.latest(work, app)
    return ok({"addresses": row.whitelist})


@doc(request=WhitelistRequest, response=WhitelistRequest, status=201)
async def add_whitelist(request: web.Request) -> web.Response:
    addresses = _addresses(await body(request))
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            user, app = await authorize(work, request, lock=True)
            row = await settings_domain.allow(work, app, user.username, addresses)
        await router.applied(app.id)
    return ok({"addresses": row.whitelist}, status=201)


@doc(request=WhitelistRequest, status=204)
async def remove_whitelist(request: web.Request) -> web.Response:
    addresses = _addresses(await body(request))
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            user, app = await authorize(work, request, lock=True)
            await settings_domain.disallow(work, app, user.username, addresses)
        await router.applied(app.id)
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", APP + "/settings", get_settings)
    add(app, "POST", APP + "/settings", set_settings)
    add(app, "GET", APP + "/tls", get_tls)
    add(app, "POST", APP + "/tls", set_tls)
    add(app, "GET", APP + "/whitelist", get_whitelist)
    add(app, "POST", APP + "/whitelist", add_whitelist)
    add(app, "DELETE", APP + "/whitelist", remove_whitelist)
