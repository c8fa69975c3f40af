"""Events of the ``routes`` family: router-sync's nginx reloads."""

from __future__ import annotations

from deis_common.events.base import Event


class RoutesUpdated(Event):
    """nginx now serves ``generation`` of the app (published only after the reload took effect)."""

    subject = "deis.v1.routes.updated"

    app: str
    generation: int
    endpoints: list[str] = []


class RoutesRejected(Event):
    """A candidate config failed ``nginx -t``; the previous config keeps serving."""

    subject = "deis.v1.routes.rejected"

    app: str | None = None
    generation: int | None = None
    reason: str
