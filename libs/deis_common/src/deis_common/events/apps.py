"""Events of the ``apps`` family: app lifecycle and desired-state changes other than releases."""

from __future__ import annotations

from typing import Self

from pydantic import Field

from deis_common.events.base import Event
from deis_common.events.state import AppState, RouteSettings


class AppCreated(Event):
    subject = "deis.v1.apps.created"

    app: str
    owner: str


class AppScaled(Event):
    """The process structure changed; ``state`` is the full desired state at the new generation."""

    subject = "deis.v1.apps.scaled"
    confidential = True

    app: str
    generation: int
    structure: dict[str, int]
    state: AppState

    def redacted(self) -> Self:
        return self.model_copy(update={"state": self.state.redacted()})


class RestartRequested(Event):
    """Restart all processes, those of one type, or one process by name."""

    subject = "deis.v1.apps.restart_requested"

    app: str
    type: str | None = None
    process: str | None = None


class RunRequested(Event):
    """A one-off ``deis run``; answered by ``runs.finished`` with the same ``run_id``."""

    subject = "deis.v1.apps.run_requested"
    confidential = True

    app: str
    run_id: str
    command: str
    state: AppState
    timeout_seconds: float = Field(1200.0, description="the run is killed after this long")

    def redacted(self) -> Self:
        return self.model_copy(update={"state": self.state.redacted()})


class SettingsChanged(Event):
    """Routing settings changed (maintenance, routable, whitelist, https-only)."""

    subject = "deis.v1.apps.settings_changed"

    app: str
    routing: RouteSettings


class AppDestroyed(Event):
    """Everything of the app must go: processes, routes, build cache."""

    subject = "deis.v1.apps.destroyed"

    app: str
