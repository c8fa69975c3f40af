"""``/v2/apps/<id>/domains``: the hostnames an app answers to (stored in ACE form, unique platform-wide)."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import domains
from deis_controller.domain.hostnames import to_ace
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.context import add, controller
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.pagination import paginate
from deis_controller.http.respond import empty, ok
from deis_controller.http.rollout import routing
from deis_controller.http.validation import parse
from deis_controller.records import Domain


class DomainRequest(BaseModel):
    domain: str = Field(min_length=1, description="hostname; Unicode is stored in its ACE form")


class DomainResponse(BaseModel):
    owner: str
    app: str
    domain: str
    created: str
    updated: str


def render(domain: Domain) -> dict[str, Any]:
    return {k: getattr(domain, k) for k in ("owner", "created", "updated", "app", "domain")}


@doc(response=DomainResponse, paginated=True)
async def list_domains(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
    return await paginate(request, functools.partial(domains.page, app=app), render)


@doc(request=DomainRequest, response=DomainResponse, status=201)
async def add_domain(request: web.Request) -> web.Response:
    data = parse(DomainRequest, await body(request))
    name = to_ace(data.domain)
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            user, app = await authorize(work, request)
            row = await domains.add(work, app, user.username, name)
        await router.applied(app.id)
    return ok(render(row), status=201)


@doc(status=204)
async def remove_domain(request: web.Request) -> web.Response:
    name = domains.existing_name(request.match_info["domain"])
    ctl = controller(request)
    async with routing(ctl) as router:
        async with ctl.work() as work:
            _, app = await authorize(work, request)
            await domains.remove(work, app, name)
        await router.applied(app.id)
    return empty()


def setup(app: web.Application) -> None:
    add(app, "GET", APP + "/domains", list_domains)
    add(app, "POST", APP + "/domains", add_domain)
    add(app, "DELETE", APP + "/domains/{domain}", remove_domain)
