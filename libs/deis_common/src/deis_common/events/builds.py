"""Events of the ``builds`` family: build workers turning pushed source (or an image) into an artifact.

Build output lines are not events: they go on core NATS subject ``deis.v1.builds.log.<build_id>``
(see :func:`build_log_subject`) and are relayed to the git client as ``remote:`` lines.
"""

from __future__ import annotations

from pydantic import Field

from deis_common.events.base import Event
from deis_common.events.state import BuildArtifact


def build_log_subject(build_id: str) -> str:
    return f"deis.v1.builds.log.{build_id}"


class BuildStarted(Event):
    subject = "deis.v1.builds.started"

    app: str
    build_id: str
    sha: str = ""
    worker: str = ""


class BuildCompleted(Event):
    """The artifact is stored; the controller makes a release of it."""

    subject = "deis.v1.builds.completed"

    app: str
    build_id: str
    user: str
    artifact: BuildArtifact
    duration_seconds: float = 0.0


class BuildFailed(Event):
    """No artifact: nothing is released and the running release keeps serving."""

    subject = "deis.v1.builds.failed"

    app: str
    build_id: str
    user: str = ""
    sha: str = ""
    reason: str
    log_tail: list[str] = Field(default_factory=list)
