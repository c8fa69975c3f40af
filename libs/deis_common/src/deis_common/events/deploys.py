"""Events of the ``deploys`` family: a release that could not be brought up."""

from __future__ import annotations

from pydantic import Field

from deis_common.events.base import Event


class DeployFailed(Event):
    """The new release never got ready; the previous processes keep serving."""

    subject = "deis.v1.deploys.failed"

    app: str
    generation: int
    version: int
    reason: str
    log_tail: list[str] = Field(default_factory=list)
