"""``GET /routes``: what this router serves right now, for operators and ``deis-platform status``.

It shows the table nginx accepted last (host names, endpoints, generation, settings and which domains
have a certificate) and never certificate or key material.
"""

from __future__ import annotations

from aiohttp import web

from deis_router_sync.sync import RouteSync

SYNC = web.AppKey("router_sync", RouteSync)


def add_routes(app: web.Application, sync: RouteSync) -> None:
    app[SYNC] = sync
    app.router.add_get("/routes", list_routes)


async def list_routes(request: web.Request) -> web.Response:
    sync = request.app[SYNC]
    renderer = sync.renderer
    apps = {}
    for name, route in sorted(sync.table.apps.items()):
        apps[name] = {
            "generation": route.generation,
            "endpoints": route.endpoints,
            "hosts": [renderer.host(name), *(renderer.host(d) for d in route.domains)],
            "tls": sorted(renderer.host(d) for d in route.certs),
            "routing": route.routing.model_dump(mode="json"),
        }
    return web.json_response({"ready": sync.ready, "version": sync.version, "apps": apps})
