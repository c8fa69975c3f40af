"""Events of the ``releases`` family: the controller's numbered releases."""

from __future__ import annotations

from typing import Self

from pydantic import Field, computed_field

from deis_common.events.base import Event
from deis_common.events.state import AppState


class ReleaseCreated(Event):
    """A new release: carries the app's whole desired state (the scheduler needs nothing else).

    Its version and generation are the state's; they are also written at the top of the payload, where
    integrations and ``deis events`` readers find them, and ignored there when it is read back.
    """

    subject = "deis.v1.releases.created"
    confidential = True

    app: str
    build_id: str | None = Field(None, description="the build this release came from, if any")
    summary: str = ""
    state: AppState
    rollback_of: int | None = Field(None, description="set when the controller redeploys a good release")

    @computed_field(description="release version (the state's)")  # type: ignore[prop-decorator]
    @property
    def version(self) -> int:
        return self.state.version

    @computed_field(description="per-app desired-state counter (the state's)")  # type: ignore[prop-decorator]
    @property
    def generation(self) -> int:
        return self.state.generation

    def redacted(self) -> Self:
        return self.model_copy(update={"state": self.state.redacted()})


class ReleaseRejected(Event):
    """A completed build could not become a release (e.g. Procfile rules); nothing was deployed."""

    subject = "deis.v1.releases.rejected"

    app: str
    build_id: str
    reason: str


class ReleaseDeployed(Event):
    """The controller saw the release's processes healthy and routed."""

    subject = "deis.v1.releases.deployed"

    app: str
    version: int
    generation: int
