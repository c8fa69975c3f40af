"""What a request carries, decoded and bounded in one place before any handler or query sees it.

Postgres refuses NUL characters in ``text`` and ``jsonb``, the UTF-8 encoder refuses lone UTF-16
surrogates, and its integer columns hold 64 bits at most; a value that slips past these rules into a
statement becomes a server error. So:

- JSON bodies (and JSON carried inside a string field, like a config section): at most
  ``client_max_size`` bytes (413), valid JSON without ``NaN``/``Infinity``, nested at most
  :data:`MAX_DEPTH` levels, every string and key free of NUL and lone surrogates, every number finite
  and every integer within 64 bits;
- path parts and query values: the same rule for text, checked once the route matched
  (:func:`check_path_and_query`, called by the API middleware for every request);
- integers from the query (:func:`query_int`) within 64 bits; a column narrower than that (a release
  version is an ``integer``) is the repository's to guard.

Each refusal is a 4xx ``{"detail": "..."}`` that names the field. Whether a value makes sense for its
field (a username's characters, a port's range) stays with the handler's model or the domain.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from aiohttp import web

from deis_controller.errors import BadRequest, FieldErrors
from deis_controller.http.problems import PayloadTooLarge

MAX_DEPTH = 64  # arrays and objects inside each other; real requests need fewer than ten
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # Postgres bigint

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _printable(name: str) -> str:
    """``name`` fit to quote in a message: NUL and surrogates spelled as escapes."""
    return _BAD_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", name)


def _where(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{_printable(part)}" if out else _printable(part))
    return out or "body"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    if value.isascii() and "\x00" not in value:
        return None
    found = _BAD_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "may not contain NUL characters (\\u0000)"
    return "may not contain unpaired UTF-16 surrogates"


def _check_tree(data: Any, root: tuple[str | int, ...]) -> None:
    """Walk decoded JSON without recursion: depth, text and numbers as the module docstring says."""
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [(data, root, 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            why = text_problem(value)
            if why:
                raise BadRequest(f"{_where(path)} {why}")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT_MIN <= value <= INT_MAX:
                raise BadRequest(f"{_where(path)} is out of range: integers must fit in 64 bits")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise BadRequest(f"{_where(path)} is out of range: numbers must be finite")
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise BadRequest(f"{_where(path)} is nested deeper than {MAX_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    why = text_problem(key)
                    if why:
                        raise BadRequest(f"{_where(path)}: its keys {why}")
                stack.append((item, (*path, key), depth + 1))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def decode_json(raw: str | bytes, field: str | None = None) -> Any:
    """``raw`` as JSON, checked as the module docstring says (``field``: where it came from)."""
    try:
        data = json.loads(raw, parse_constant=_no_constants)
    except RecursionError as e:
        raise BadRequest(f"{field or 'body'} is nested deeper than {MAX_DEPTH} levels") from e
    except ValueError as e:
        if field is None:
            raise BadRequest(f"JSON parse error - {e}") from e
        raise FieldErrors.one(field, f"{field} is not valid JSON: {e}") from e
    _check_tree(data, (field,) if field else ())
    return data


async def body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object (an empty body counts as ``{}``); anything else is a 400 (413: too big)."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as e:
        raise PayloadTooLarge(request.client_max_size) from e
    if not raw.strip():
        return {}
    data = decode_json(raw)
    if not isinstance(data, dict):
        raise BadRequest("Invalid data. Expected a JSON object.")
    return data


def check_path_and_query(request: web.Request) -> None:
    """Refuse path parts and query names or values that cannot be stored as text."""
    for name, value in request.match_info.items():
        why = text_problem(value)
        if why:
            raise BadRequest(f"path parameter '{_printable(name)}' {why}")
    for name, value in request.query.items():
        why = text_problem(name)
        if why:
            raise BadRequest(f"query parameter names {why}")
        why = text_problem(value)
        if why:
            raise BadRequest(f"query parameter '{name}' {why}")


def _integer(raw: str) -> int | None:
    try:
        return int(raw.strip())
    except ValueError:  # not digits, or more digits than Python converts
        return None


def query_int(request: web.Request, name: str) -> int | None:
    """The query value ``name`` as an integer; None when absent or not one; a 400 when beyond 64 bits."""
    raw = request.query.get(name)
    value = _integer(raw) if raw is not None else None
    if value is not None and not INT_MIN <= value <= INT_MAX:
        raise BadRequest(f"query parameter '{name}' is out of range: integers must fit in 64 bits")
    return value


def path_int(request: web.Request, name: str) -> int | None:
    """The path part ``name`` as an integer, or None when it is not one that fits in 64 bits."""
    value = _integer(request.match_info[name])
    return value if value is not None and INT_MIN <= value <= INT_MAX else None
