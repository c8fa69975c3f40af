"""``/v2/apps/<id>/domains``: the hostnames an app answers to (stored in ACE form, unique platform-wide)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_common.events.certs import CertDetached
from deis_common.events.domains import DomainAdded, DomainRemoved
from deis_controller.db import UniqueViolation
from deis_controller.db import routing as routing_db
from deis_controller.domain.hostnames import to_ace
from deis_controller.errors import FieldErrors, NoMatch
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.context import add, controller
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.rollout import routing
from deis_controller.http.validation import parse


class DomainRequest(BaseModel):
    domain: str = Field(min_length=1, description="hostname; Unicode is stored in its ACE form")


class DomainResponse(BaseModel):
    owner: str
    app: str
    domain: str
    created: str
    updated: str


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("owner", "created", "updated", "app", "domain")}


@doc(response=DomainResponse, paginated=True)
async def list_domains(request: web.Request) -> web.Response:
    ctl = controller(request)
    async with ctl.db.read() as tx:
        _, app = await authorize(tx, request)

    async def fetch(limit: int, offset: int) -> tuple[int, list[Any]]:
        async with ctl.db.read() as tx:
            count, rows = await routing_db.domains_page(tx, app["uuid"], limit, offset)
        return count, [render(r) for r in rows]

    return ok(await paginate(request, fetch))


@doc(request=DomainRequest, response=DomainResponse, status=201)
async def add_domain(request: web.Request) -> web.Response:
    data = parse(DomainRequest, await body(request))
    name = to_ace(data.domain)
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            user, app = await authorize(work.tx, request)
            if await routing_db.domain(work.tx, name) is not None:
                raise FieldErrors.one("domain", f"The domain {name} is already in use by another app")
            try:
                async with work.tx.savepoint():
                    row = await routing_db.add_domain(work.tx, app["uuid"], user.username, name)
            except UniqueViolation as e:
                raise FieldErrors.one("domain", "Domain is already in use by another application") from e
            await work.emit(DomainAdded(app=app["id"], domain=name))
            work.log(app["id"], f"domain {name} added")
        await router.applied(app["id"])
    return ok(render(row), status=201)


@doc(status=204)
async def remove_domain(request: web.Request) -> web.Response:
    raw = request.match_info["domain"]
    try:
        name = to_ace(raw)
    except FieldErrors as e:
        raise NoMatch("Domain") from e
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            _, app = await authorize(work.tx, request)
            row = await routing_db.domain(work.tx, name)
            if row is None or row["app_uuid"] != app["uuid"]:
                raise NoMatch("Domain")
            if row["certificate_id"] is not None:
                cert = await routing_db.cert_name(work.tx, row["certificate_id"])
                await work.emit(CertDetached(app=app["id"], name=cert, domain=name))
            await routing_db.remove_domain(work.tx, row["id"])
            await work.emit(DomainRemoved(app=app["id"], domain=name))
            work.log(app["id"], f"domain {name} removed")
        await router.applied(app["id"])
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", APP + "/domains", list_domains)
    add(app, "POST", APP + "/domains", add_domain)
    add(app, "DELETE", APP + "/domains/{domain}", remove_domain)
