"""``/v2/certs``: a user's TLS certificates, and attaching them to domains of any app."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import certificates
from deis_controller.errors import BadRequest
from deis_controller.http.context import add, controller, require_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.rollout import routing
from deis_controller.http.validation import parse
from deis_controller.records import Certificate


class CertRequest(BaseModel):
    name: str = Field(min_length=1, max_length=253)
    certificate: str = Field(min_length=1, description="PEM certificate (chain)")
    key: str = Field(min_length=1, description="PEM private key")


class AttachRequest(BaseModel):
    domain: str = Field(min_length=1, description="a domain of any app")


class CertResponse(BaseModel):
    id: int
    name: str
    owner: str
    common_name: str | None
    expires: str
    starts: str
    fingerprint: str
    san: list[str]
    domains: list[str]
    issuer: str
    subject: str
    created: str
    updated: str


_FIELDS = (
    "id",
    "name",
    "owner",
    "common_name",
    "expires",
    "starts",
    "fingerprint",
    "san",
    "domains",
    "issuer",
    "subject",
    "created",
    "updated",
)


def render(cert: Certificate) -> dict[str, Any]:
    return {k: (list(cert.domains) if k == "domains" else getattr(cert, k)) for k in _FIELDS}


@doc(response=CertResponse, paginated=True)
async def list_certs(request: web.Request) -> web.Response:
    page = functools.partial(certificates.page, owner=require_user(request).username)
    return await paginate(request, page, render)


@doc(request=CertRequest, response=CertResponse, status=201)
async def create_cert(request: web.Request) -> web.Response:
    user = require_user(request)
    data = parse(CertRequest, await body(request))
    parsed = certificates.parse(data.name, data.certificate, data.key)
    async with controller(request).work() as work:
        row = await certificates.create(work, user.username, data.name, data.certificate, data.key, parsed)
    return ok(render(row), status=201)


@doc(response=CertResponse)
async def get_cert(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        row = await certificates.get(work, require_user(request).username, request.match_info["name"])
    return ok(render(row))


@doc(status=204)
async def delete_cert(request: web.Request) -> web.Response:
    async with controller(request).work() as work:
        await certificates.delete(work, require_user(request).username, request.match_info["name"])
    return empty()


@doc(request=AttachRequest, status=201)
async def attach(request: web.Request) -> web.Response:
    data = await body(request)
    raw = data.get("domain") or request.match_info.get("domain")
    if not raw or not isinstance(raw, str):
        raise BadRequest("domain is a required field")
    ctl = controller(request)
    owner, name = require_user(request).username, request.match_info["name"]
    async with routing(ctl) as router:
        async with ctl.work() as work:
            app = await certificates.attach(work, owner, name, raw)
        await router.applied(app)
    return web.Response(status=201)


@doc(status=204)
async def detach(request: web.Request) -> web.Response:
    ctl = controller(request)
    name, domain = request.match_info["name"], request.match_info["domain"]
    async with routing(ctl) as router:
        async with ctl.work() as work:
            app = await certificates.detach(work, require_user(request).username, name, domain)
        await router.applied(app)
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", "/v2/certs", list_certs)
    add(app, "POST", "/v2/certs", create_cert)
    add(app, "GET", "/v2/certs/{name}", get_cert)
    add(app, "DELETE", "/v2/certs/{name}", delete_cert)
    add(app, "POST", "/v2/certs/{name}/domain", attach)
    add(app, "POST", "/v2/certs/{name}/domain/{domain}", attach)
    add(app, "DELETE", "/v2/certs/{name}/domain/{domain}", detach)
