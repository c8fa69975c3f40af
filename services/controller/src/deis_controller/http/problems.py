"""How errors become HTTP answers — the one place that knows status codes and body shapes.

Domain errors (:mod:`deis_controller.errors`) carry no HTTP; here each kind gets the status and body the
v2 contract gives it. The refusals only HTTP makes (authentication, method, body size) live here too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deis_controller.errors import (
    BadRequest,
    BareList,
    Conflict,
    DomainError,
    FieldErrors,
    NoMatch,
    NotFound,
    PermissionDenied,
    Unavailable,
    Unprocessable,
)
from deis_controller.http.respond import ok


class NotAuthenticated(DomainError):
    def __init__(self, detail: str = "Authentication credentials were not provided.") -> None:
        super().__init__(detail)


class MethodNotAllowed(DomainError):
    def __init__(self, method: str) -> None:
        super().__init__(f'Method "{method}" not allowed.')


class PayloadTooLarge(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than {limit} bytes.")


_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (BadRequest, 400),
    (FieldErrors, 400),
    (BareList, 400),
    (NotAuthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (NoMatch, 404),
    (MethodNotAllowed, 405),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (Unprocessable, 422),
    (Unavailable, 503),
)


def status(error: DomainError) -> int:
    return next((code for kind, code in _STATUS if isinstance(error, kind)), 400)


def body(error: DomainError) -> Any:
    """``{"detail": ...}``, except field errors (``{"<field>": [...]}``), bare lists and lookup misses
    (a bare JSON string)."""
    if isinstance(error, FieldErrors):
        return error.errors
    if isinstance(error, BareList):
        return error.messages
    if isinstance(error, NoMatch):
        return error.detail
    return {"detail": error.detail}


def response(error: DomainError) -> web.Response:
    headers = {"WWW-Authenticate": "Token"} if isinstance(error, NotAuthenticated) else None
    return ok(body(error), status=status(error), headers=headers)
