"""The controller's refusals: what a rule refused and why, in the words the caller gets.

Domain code raises these; they say nothing about HTTP. The API maps each kind to a status code and body
shape in one place (``http.problems``); the event handlers turn them into rejection events.
"""

from __future__ import annotations

from typing import TypeVar

from deis_common.errors import DeisError

T = TypeVar("T")


class DomainError(DeisError):
    """A request the controller's rules refuse; ``detail`` says why."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(DomainError):
    """A business rule refused the request."""


class FieldErrors(DomainError):
    """Field validation: messages per field; object-level problems under ``non_field_errors``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> FieldErrors:
        return cls({field: [message]})


class BareList(DomainError):
    """A list of messages with no field (the whitelist's address errors)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class PermissionDenied(DomainError):
    def __init__(self, detail: str = "You do not have permission to perform this action.") -> None:
        super().__init__(detail)


class NotFound(DomainError):
    """An explicit not-found with a message."""


class NoMatch(DomainError):
    """An object lookup miss, naming the model."""

    def __init__(self, model: str) -> None:
        super().__init__(f"No {model} matches the given query.")


def found(value: T | None, model: str) -> T:
    """``value``, or :class:`NoMatch` naming ``model`` when the lookup found nothing."""
    if value is None:
        raise NoMatch(model)
    return value


class Conflict(DomainError):
    """The request would change nothing, or collides with what exists."""


class Unprocessable(DomainError):
    """The request names something that is not there to change (unsetting a missing key)."""


class Unavailable(DomainError):
    """What the request waits for did not happen (a deploy failed, a run or pull did not finish)."""
