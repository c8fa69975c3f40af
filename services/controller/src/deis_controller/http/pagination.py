"""The list view: limit/offset pages, ``{"count", "next", "previous", "results"}`` with absolute URLs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from deis_controller.controller import Work
from deis_controller.http.context import controller
from deis_controller.http.inputs import query_int
from deis_controller.http.respond import ok

T = TypeVar("T")

DEFAULT_LIMIT = 100


def window(request: web.Request) -> tuple[int, int]:
    """(limit, offset) from the query; a missing, zero or non-numeric limit means the default
    (an integer beyond what Postgres takes is a 400)."""
    limit = query_int(request, "limit")
    if limit is None or limit <= 0:
        limit = DEFAULT_LIMIT
    offset = max(query_int(request, "offset") or 0, 0)
    return limit, offset


def _url(request: web.Request, limit: int, offset: int | None) -> str:
    query = dict(request.query)
    query["limit"] = str(limit)
    if offset is None or offset <= 0:
        query.pop("offset", None)
    else:
        query["offset"] = str(offset)
    return str(request.url.with_query(query))


def envelope(request: web.Request, count: int, results: list[Any], limit: int, offset: int) -> dict[str, Any]:
    next_url = _url(request, limit, offset + limit) if offset + limit < count else None
    previous_url = _url(request, limit, offset - limit) if offset > 0 else None
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}


async def paginate(
    request: web.Request,
    page: Callable[[Work, int, int], Awaitable[tuple[int, Sequence[T]]]],
    render: Callable[[T], Any],
) -> web.Response:
    """The list view: one page of ``page(work, limit, offset)``, each item rendered, in the envelope."""
    limit, offset = window(request)
    async with controller(request).read() as work:
        count, items = await page(work, limit, offset)
    return ok(envelope(request, count, [render(item) for item in items], limit, offset))
