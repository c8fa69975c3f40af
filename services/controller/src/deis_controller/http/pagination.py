"""Limit/offset pagination: ``{"count", "next", "previous", "results"}`` with absolute page URLs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

DEFAULT_LIMIT = 100


def window(request: web.Request) -> tuple[int, int]:
    """(limit, offset) from the query; a missing, zero or non-numeric limit means the default."""
    try:
        limit = int(request.query.get("limit", DEFAULT_LIMIT))
    except ValueError:
        limit = DEFAULT_LIMIT
    if limit <= 0:
        limit = DEFAULT_LIMIT
    try:
        offset = max(int(request.query.get("offset", 0)), 0)
    except ValueError:
        offset = 0
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
    request: web.Request, fetch: Callable[[int, int], Awaitable[tuple[int, list[Any]]]]
) -> dict[str, Any]:
    limit, offset = window(request)
    count, results = await fetch(limit, offset)
    return envelope(request, count, results, limit, offset)
