"""The v2 REST API: one module per resource, mounted on the service's aiohttp application."""

from __future__ import annotations

from aiohttp import web

from deis_controller.controller import Controller
from deis_controller.http import (
    apps,
    auth,
    builds,
    certs,
    config,
    domains,
    events,
    hooks,
    keys,
    openapi,
    perms,
    processes,
    releases,
    root,
    settings,
)
from deis_controller.http.context import CONTROLLER
from deis_controller.http.metrics import metrics_middleware
from deis_controller.http.middleware import add_headers, api_middleware

MODULES = (
    root,
    auth,
    keys,
    apps,
    config,
    builds,
    releases,
    hooks,
    processes,
    domains,
    certs,
    settings,
    perms,
    events,
    openapi,
)


def mount(app: web.Application, ctl: Controller) -> None:
    app[CONTROLLER] = ctl
    app.middlewares.append(metrics_middleware(ctl.service.registry))
    app.middlewares.append(api_middleware)
    app.on_response_prepare.append(add_headers)
    for module in MODULES:
        module.setup(app)
