"""Events of the ``certs`` family: certificates attached to and detached from domains."""

from __future__ import annotations

from deis_common.events.base import Event


class CertAttached(Event):
    """Serve ``certificate`` (PEM) for ``domain``; ``key`` is secret and must never be logged."""

    subject = "deis.v1.certs.attached"

    app: str
    name: str
    domain: str
    certificate: str
    key: str


class CertDetached(Event):
    subject = "deis.v1.certs.detached"

    app: str
    name: str
    domain: str
