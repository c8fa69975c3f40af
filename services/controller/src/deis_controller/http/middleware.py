"""Cross-cutting HTTP behaviour: version and CORS headers, token authentication, errors mapped to HTTP.

Errors become responses through :mod:`problems`, the one place that knows their status codes.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from pydantic import ValidationError

from deis_controller.domain import users
from deis_controller.errors import DomainError
from deis_controller.http import problems
from deis_controller.http.context import USER_KEY, Handler, controller
from deis_controller.http.inputs import check_path_and_query
from deis_controller.http.problems import MethodNotAllowed, NotAuthenticated, PayloadTooLarge
from deis_controller.http.respond import ok
from deis_controller.http.validation import field_errors
from deis_controller.records import User
from deis_controller.version import API_VERSION, PLATFORM_VERSION

log = structlog.get_logger(__name__)

_PREFLIGHT_METHODS = "DELETE, GET, OPTIONS, PATCH, POST, PUT"
_ANONYMOUS_OK_WITH_BAD_TOKEN = ("/v2/auth/register", "/v2/auth/register/")


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["DEIS_API_VERSION"] = API_VERSION
    response.headers["DEIS_PLATFORM_VERSION"] = PLATFORM_VERSION
    exposed = "DEIS_API_VERSION, DEIS_PLATFORM_VERSION"
    builder_url = controller(request).settings.builder_url
    if builder_url:
        # Where `git push` goes; the CLI writes it into the `deis` remote (`deis create`, `deis login`).
        response.headers["DEIS_BUILDER_URL"] = builder_url
        exposed += ", DEIS_BUILDER_URL"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "content-type, accept, origin, Authorization, Host"
    response.headers["Access-Control-Expose-Headers"] = exposed


async def _authenticate(request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    if not header:
        return
    keyword, _, key = header.partition(" ")
    if keyword.lower() != "token":
        return
    key = key.strip()
    user: User | None = None
    # a token is 40 hex digits: anything else (header bytes that are not ASCII too) is unknown
    if key and key.isascii():
        async with controller(request).read() as work:
            user = await users.by_token(work, key)
    if user is not None:
        request[USER_KEY] = user
    elif request.path not in _ANONYMOUS_OK_WITH_BAD_TOKEN:
        raise NotAuthenticated("Invalid token.")


def _http_error(request: web.Request, error: web.HTTPException) -> web.Response:
    """aiohttp's own refusals (no route, body too large, ...) in the API's JSON shape."""
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return problems.response(PayloadTooLarge(request.client_max_size))
    detail = "Not found." if error.status == 404 else error.reason
    kept = {k: v for k, v in error.headers.items() if k in ("Allow", "WWW-Authenticate", "Retry-After")}
    return ok({"detail": detail}, status=error.status, headers=kept)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/v2"):
        try:
            return await handler(request)
        except web.HTTPException as e:
            if e.status < 400:
                raise
            return _http_error(request, e)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=200, headers={"Access-Control-Allow-Methods": _PREFLIGHT_METHODS})
    try:
        await _authenticate(request)
        check_path_and_query(request)
        return await handler(request)
    except DomainError as e:
        return problems.response(e)
    except ValidationError as e:
        return ok(field_errors(e), status=400)
    except web.HTTPMethodNotAllowed:
        if request.get(USER_KEY) is None:
            return problems.response(NotAuthenticated())
        return problems.response(MethodNotAllowed(request.method))
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _http_error(request, e)
    except Exception:
        log.exception("http.unhandled", method=request.method, path=request.path)
        return ok({"detail": "Server Error"}, status=500)
