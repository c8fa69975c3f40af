"""The catalogue: every event type, by subject and by family, and the streams that hold them."""

from __future__ import annotations

from collections import defaultdict

from deis_common.events import (
    apps,
    backups,
    builds,
    certs,
    containers,
    deploys,
    domains,
    pushes,
    releases,
    routes,
    runs,
)
from deis_common.events.base import Envelope, Event

_MODULES = (pushes, builds, releases, apps, containers, deploys, runs, routes, domains, certs, backups)

ALL_EVENTS: tuple[type[Event], ...] = tuple(
    obj
    for module in _MODULES
    for obj in vars(module).values()
    if isinstance(obj, type) and issubclass(obj, Event) and obj is not Event and "subject" in obj.__dict__
)

# events whose payload carries secrets: never for read-only subscribers, redacted for users
CONFIDENTIAL_EVENTS: tuple[type[Event], ...] = tuple(cls for cls in ALL_EVENTS if cls.confidential)

BY_SUBJECT: dict[str, type[Event]] = {cls.subject: cls for cls in ALL_EVENTS}
BY_NAME: dict[str, type[Event]] = {cls.__name__: cls for cls in ALL_EVENTS}


def _families() -> dict[str, list[type[Event]]]:
    grouped: dict[str, list[type[Event]]] = defaultdict(list)
    for cls in ALL_EVENTS:
        grouped[cls.family].append(cls)
    return dict(grouped)


FAMILIES: dict[str, list[type[Event]]] = _families()


def stream_name(family: str) -> str:
    """``builds`` -> ``DEIS_BUILDS``."""
    return f"DEIS_{family.upper()}"


def lookup(name_or_subject: str) -> type[Event]:
    """Find an event by class name (``BuildCompleted``) or subject (``deis.v1.builds.completed``)."""
    found = BY_NAME.get(name_or_subject) or BY_SUBJECT.get(name_or_subject)
    if found is None:
        raise KeyError(name_or_subject)
    return found


def redact(envelope: Envelope) -> Envelope:
    """The envelope with its event's secret values hidden (:meth:`Event.redacted`).

    A confidential event is re-serialised from its model, so fields this version does not know are
    dropped rather than passed on unchecked. Raises ``KeyError`` for a type outside the catalogue and
    ``pydantic.ValidationError`` for a payload that does not fit its type.
    """
    cls = BY_SUBJECT[envelope.type]
    if not cls.confidential:
        return envelope
    hidden = envelope.open(cls).redacted()
    return envelope.model_copy(update={"data": hidden.model_dump(mode="json")})
