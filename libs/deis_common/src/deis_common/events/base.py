"""The event base class and the CloudEvents-compatible envelope every event travels in.

An event is a frozen pydantic model whose class constant ``subject`` names where it is published
(``deis.v1.<family>.<event>``). Inside a major version changes are additive: consumers ignore unknown
fields, so every model accepts and drops extra keys.

An event whose payload carries secrets (config values, a private key, a run's output) says so with
``confidential = True`` and knows how to hide them (:meth:`Event.redacted`): read-only subscribers never
get it from NATS, and users get it from the controller's event stream only redacted.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

SUBJECT_PREFIX = "deis.v1"
REDACTED = "[redacted]"

E = TypeVar("E", bound="Event")


class Model(BaseModel):
    """A frozen value that ignores unknown fields (forward compatible)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(Model):
    """Base of every domain event. Subclasses set ``subject`` and ``family``."""

    subject: ClassVar[str]
    family: ClassVar[str]
    confidential: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        subject = cls.__dict__.get("subject")
        if subject is not None:
            parts = subject.split(".")
            if len(parts) != 4 or ".".join(parts[:2]) != SUBJECT_PREFIX:
                raise ValueError(f"{cls.__name__}.subject must look like deis.v1.<family>.<event>")
            cls.family = parts[2]
        if cls.__dict__.get("confidential") and "redacted" not in cls.__dict__:
            raise TypeError(f"{cls.__name__} is confidential and must say how it is redacted")

    def redacted(self) -> Self:
        """This event with every secret value replaced by ``REDACTED`` (itself when it carries none)."""
        return self

    @property
    def app_name(self) -> str | None:
        """The app this event is about, when it has one (the envelope's ``subject``)."""
        value = getattr(self, "app", None)
        return value if isinstance(value, str) else None


def new_id() -> str:
    return str(uuid.uuid4())


class Envelope(Model):
    """CloudEvents 1.0 structured-mode JSON, plus ``correlation_id`` for tracing one push or request."""

    specversion: str = "1.0"
    id: str = Field(default_factory=new_id)
    type: str
    source: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    correlation_id: str | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        source: str,
        correlation_id: str | None = None,
        event_id: str | None = None,
    ) -> Self:
        return cls(
            id=event_id or new_id(),
            type=event.subject,
            source=source,
            subject=event.app_name,
            correlation_id=correlation_id,
            data=event.model_dump(mode="json"),
        )

    def open(self, event_type: builtins.type[E]) -> E:
        """The payload as ``event_type``; raises ``pydantic.ValidationError`` when it does not fit."""
        return event_type.model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        return cls.model_validate_json(raw)
