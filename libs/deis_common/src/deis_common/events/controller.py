"""Request/reply subjects the controller answers (not events; nothing is stored in a stream)."""

from __future__ import annotations

from pydantic import Field

from deis_common.events.base import Model
from deis_common.events.state import AppSnapshot

SNAPSHOT_SUBJECT = "deis.v1.controller.snapshot"


class SnapshotRequest(Model):
    app: str | None = Field(None, description="one app, or every app when None")


class Snapshot(Model):
    apps: list[AppSnapshot] = Field(default_factory=list)
