"""Events of the ``domains`` family."""

from __future__ import annotations

from deis_common.events.base import Event


class DomainAdded(Event):
    subject = "deis.v1.domains.added"

    app: str
    domain: str


class DomainRemoved(Event):
    subject = "deis.v1.domains.removed"

    app: str
    domain: str
