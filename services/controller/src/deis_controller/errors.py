"""API errors: what went wrong, with the status code and body shape the v2 contract gives each kind.

Domain code raises these; one middleware (``http.middleware``) turns them into responses.
"""

from __future__ import annotations

from typing import Any

from deis_common.errors import DeisError


class ApiError(DeisError):
    status = 400

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self) -> Any:
        return {"detail": self.detail}

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ApiError):
    """A business rule refused the request (``{"detail": ...}``)."""


class FieldErrors(ApiError):
    """Field validation: ``{"<field>": ["msg", ...]}``; object-level problems under ``non_field_errors``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> FieldErrors:
        return cls({field: [message]})

    def body(self) -> Any:
        return self.errors


class BareList(ApiError):
    """A bare JSON list of messages (the whitelist's address errors)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages

    def body(self) -> Any:
        return self.messages


class NotAuthenticated(ApiError):
    status = 401

    def __init__(self, detail: str = "Authentication credentials were not provided.") -> None:
        super().__init__(detail)

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Token"}


class PermissionDenied(ApiError):
    status = 403

    def __init__(self, detail: str = "You do not have permission to perform this action.") -> None:
        super().__init__(detail)


class NotFound(ApiError):
    """An explicit not-found with a message (``{"detail": ...}``)."""

    status = 404


class NoMatch(ApiError):
    """An object lookup miss: the body is a bare JSON string naming the model."""

    status = 404

    def __init__(self, model: str) -> None:
        super().__init__(f"No {model} matches the given query.")

    def body(self) -> Any:
        return self.detail


class MethodNotAllowed(ApiError):
    status = 405

    def __init__(self, method: str) -> None:
        super().__init__(f'Method "{method}" not allowed.')


class Conflict(ApiError):
    status = 409


class Unprocessable(ApiError):
    status = 422


class PayloadTooLarge(ApiError):
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than {limit} bytes.")


class Unavailable(ApiError):
    status = 503
