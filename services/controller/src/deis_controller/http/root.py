"""``GET /v2/``: the CLI's connection check (401 without a token, ``{}`` with one)."""

from __future__ import annotations

from aiohttp import web

from deis_controller.http.context import require_user
from deis_controller.http.openapi import doc
from deis_controller.http.respond import ok


@doc()
async def root(request: web.Request) -> web.Response:
    require_user(request)
    return ok({})


def setup(app: web.Application) -> None:
    app.router.add_get("/v2/", root)
    app.router.add_get("/v2", root)
