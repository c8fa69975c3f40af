"""The OpenAPI 3 document of the v2 API, generated from the routes and the pydantic models they declare.

Handlers carry their request/response models through :func:`doc`; ``GET /v2/openapi.json`` walks the
router, so a route without a description still appears (with its path parameters) and nothing drifts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from deis_controller.http.respond import ok
from deis_controller.version import PLATFORM_VERSION

F = TypeVar("F", bound=Callable[..., Any])
Auth = Literal["token", "builder", "none"]


@dataclass(frozen=True)
class Doc:
    request: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    paginated: bool
    listed: bool
    auth: Auth
    media_type: str


def doc(
    *,
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    paginated: bool = False,
    listed: bool = False,
    auth: Auth = "token",
    media_type: str = "application/json",
) -> Callable[[F], F]:
    """Describe a handler for the OpenAPI document (``media_type``: of the response, e.g. a stream's)."""

    def mark(handler: F) -> F:
        handler.__openapi__ = Doc(request, response, status, paginated, listed, auth, media_type)  # type: ignore[attr-defined]
        return handler

    return mark


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(method: str, path: str, handler: Any, info: Doc | None) -> dict[str, Any]:
    summary = (handler.__doc__ or handler.__name__.replace("_", " ")).strip().splitlines()[0]
    slug = re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_")
    op: dict[str, Any] = {"operationId": f"{method.lower()}_{slug}", "summary": summary}
    params = re.findall(r"\{(\w+)\}", path)
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params
        ]
    auth = info.auth if info else ("token" if path.startswith("/v2") else "none")
    if auth == "token":
        op["security"] = [{"token": []}]
    elif auth == "builder":
        op["security"] = [{"builder": []}]
    if info and info.request is not None:
        op["requestBody"] = {"content": {"application/json": {"schema": _ref(info.request)}}}
    status = str(info.status) if info else "200"
    response: dict[str, Any] = {"description": "success"}
    if info and info.response is not None:
        schema: dict[str, Any] = _ref(info.response)
        if info.paginated:
            schema = {
                "type": "object",
                "properties": {
                    "count": {"type": "integer"},
                    "next": {"type": ["string", "null"]},
                    "previous": {"type": ["string", "null"]},
                    "results": {"type": "array", "items": schema},
                },
            }
        elif info.listed:
            schema = {"type": "array", "items": schema}
        response["content"] = {info.media_type: {"schema": schema}}
    elif info and info.media_type != "application/json":
        response["content"] = {info.media_type: {}}
    op["responses"] = {
        status: response,
        "default": {"description": "error", "content": {"application/json": {}}},
    }
    return op


def document(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    models: set[type[BaseModel]] = set()
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        path = route.resource.canonical
        if not path.startswith("/v2") and path not in ("/healthz", "/readiness"):
            continue
        if not path.endswith("/") and any(
            r.resource and r.resource.canonical == path + "/" for r in app.router.routes()
        ):
            continue
        info: Doc | None = getattr(route.handler, "__openapi__", None)
        if info is not None:
            models.update(m for m in (info.request, info.response) if m is not None)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route.method, path, route.handler, info)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, schemas = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Deis Workflow controller API", "version": PLATFORM_VERSION},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "token <key>",
                },
                "builder": {"type": "apiKey", "in": "header", "name": "X-Deis-Builder-Auth"},
            },
        },
    }


@doc(auth="none")
async def openapi(request: web.Request) -> web.Response:
    """This document."""
    return ok(document(request.app))


def setup(app: web.Application) -> None:
    app.router.add_get("/v2/openapi.json", openapi)
