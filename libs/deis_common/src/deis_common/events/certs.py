"""Events of the ``certs`` family: certificates attached to and detached from domains."""

from __future__ import annotations

from typing import Self

from deis_common.events.base import REDACTED, Event


class CertAttached(Event):
    """Serve ``certificate`` (PEM) for ``domain``; ``key`` is secret and must never be logged."""

    subject = "deis.v1.certs.attached"
    confidential = True

    app: str
    name: str
    domain: str
    certificate: str
    key: str

    def redacted(self) -> Self:
        return self.model_copy(update={"key": REDACTED})


class CertDetached(Event):
    subject = "deis.v1.certs.detached"

    app: str
    name: str
    domain: str
