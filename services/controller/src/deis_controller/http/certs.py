"""``/v2/certs``: a user's TLS certificates, and attaching them to domains of any app."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_common.events.certs import CertAttached, CertDetached
from deis_controller.db import UniqueViolation
from deis_controller.db import routing as routing_db
from deis_controller.domain.certificates import parse as parse_pem
from deis_controller.domain.hostnames import to_ace
from deis_controller.errors import BadRequest, Conflict, FieldErrors, NoMatch
from deis_controller.http.context import add, controller, require_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.rollout import routing
from deis_controller.http.validation import parse


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


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(row[k]) if k == "domains" else row[k]) for k in _FIELDS}


@doc(response=CertResponse, paginated=True)
async def list_certs(request: web.Request) -> web.Response:
    user = require_user(request)

    async def fetch(limit: int, offset: int) -> tuple[int, list[Any]]:
        async with controller(request).db.read() as tx:
            count, rows = await routing_db.certs_page(tx, user.username, limit, offset)
        return count, [render(r) for r in rows]

    return ok(await paginate(request, fetch))


@doc(request=CertRequest, response=CertResponse, status=201)
async def create_cert(request: web.Request) -> web.Response:
    user = require_user(request)
    data = parse(CertRequest, await body(request))
    parsed = parse_pem(data.name, data.certificate, data.key)
    async with controller(request).work() as work:
        if await routing_db.cert_exists(work.tx, data.name):
            raise FieldErrors.one("name", "Certificate with this name already exists.")
        try:
            async with work.tx.savepoint():
                await routing_db.add_cert(
                    work.tx,
                    user.username,
                    data.name,
                    data.certificate,
                    data.key,
                    common_name=parsed.common_name,
                    expires=parsed.expires,
                    starts=parsed.starts,
                    fingerprint=parsed.fingerprint,
                    san=parsed.san,
                    issuer=parsed.issuer,
                    subject=parsed.subject,
                )
        except UniqueViolation as e:
            raise FieldErrors.one("name", "Certificate with this name already exists.") from e
        row = await routing_db.cert(work.tx, user.username, data.name)
    assert row is not None
    return ok(render(row), status=201)


async def _cert(request: web.Request, tx: Any) -> dict[str, Any]:
    row = await routing_db.cert(tx, require_user(request).username, request.match_info["name"])
    if row is None:
        raise NoMatch("Certificate")
    return row


@doc(response=CertResponse)
async def get_cert(request: web.Request) -> web.Response:
    async with controller(request).db.read() as tx:
        return ok(render(await _cert(request, tx)))


@doc(status=204)
async def delete_cert(request: web.Request) -> web.Response:
    async with controller(request).work() as work:
        cert = await _cert(request, work.tx)
        for domain in await routing_db.cert_domains(work.tx, cert["id"]):
            await routing_db.set_domain_cert(work.tx, domain["id"], None)
            await work.emit(CertDetached(app=domain["app"], name=cert["name"], domain=domain["domain"]))
        await routing_db.delete_cert(work.tx, cert["id"])
    return empty()


async def _domain(tx: Any, raw: str) -> dict[str, Any]:
    try:
        name = to_ace(raw)
    except FieldErrors as e:
        raise NoMatch("Domain") from e
    row = await routing_db.domain(tx, name)
    if row is None:
        raise NoMatch("Domain")
    return row


@doc(request=AttachRequest, status=201)
async def attach(request: web.Request) -> web.Response:
    data = await body(request)
    raw = data.get("domain") or request.match_info.get("domain")
    if not raw or not isinstance(raw, str):
        raise BadRequest("domain is a required field")
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            cert = await _cert(request, work.tx)
            domain = await _domain(work.tx, raw)
            if domain["certificate_id"] is not None:
                raise Conflict("Domain already has a certificate attached to it")
            await routing_db.set_domain_cert(work.tx, domain["id"], cert["id"])
            await work.emit(
                CertAttached(
                    app=domain["app"],
                    name=cert["name"],
                    domain=domain["domain"],
                    certificate=cert["certificate"],
                    key=cert["key"],
                )
            )
            work.log(domain["app"], f"certificate {cert['name']} attached to {domain['domain']}")
        await router.applied(domain["app"])
    return web.Response(status=201)


@doc(status=204)
async def detach(request: web.Request) -> web.Response:
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            cert = await _cert(request, work.tx)
            domain = await _domain(work.tx, request.match_info["domain"])
            await routing_db.set_domain_cert(work.tx, domain["id"], None)
            await work.emit(CertDetached(app=domain["app"], name=cert["name"], domain=domain["domain"]))
            work.log(domain["app"], f"certificate {cert['name']} detached from {domain['domain']}")
        await router.applied(domain["app"])
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", "/v2/certs", list_certs)
    add(app, "POST", "/v2/certs", create_cert)
    add(app, "GET", "/v2/certs/{name}", get_cert)
    add(app, "DELETE", "/v2/certs/{name}", delete_cert)
    add(app, "POST", "/v2/certs/{name}/domain", attach)
    add(app, "POST", "/v2/certs/{name}/domain/{domain}", attach)
    add(app, "DELETE", "/v2/certs/{name}/domain/{domain}", detach)
