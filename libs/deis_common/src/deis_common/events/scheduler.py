"""Request/reply subjects the scheduler answers: the live process list of an app."""

from __future__ import annotations

from pydantic import Field

from deis_common.events.base import Model
from deis_common.events.state import ProcessInfo

PS_SUBJECT = "deis.v1.scheduler.ps"


class PsRequest(Model):
    app: str


class PsReply(Model):
    app: str
    processes: list[ProcessInfo] = Field(default_factory=list)
