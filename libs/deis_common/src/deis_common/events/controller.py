"""Request/reply subjects the controller answers (not events; nothing is stored in a stream).

The snapshot is served in pages (keyset on the app name): a request with ``limit`` gets at most that many
apps after ``after``, cut short so the reply stays well under NATS's largest payload, and ``next_after``
names the cursor of the following page (None on the last one). A request without ``limit`` is answered in
one message, as before paging existed: fine for one app, not for thousands.

The first page (``after`` None) also carries ``positions``: for each JetStream stream whose events the
snapshot accounts for, the last sequence it covers, read before the state was. A consumer created afresh
starts right after that position instead of replaying the stream's history.
"""

from __future__ import annotations

from pydantic import Field

from deis_common.events.base import Model
from deis_common.events.state import AppSnapshot

SNAPSHOT_SUBJECT = "deis.v1.controller.snapshot"
SNAPSHOT_PAGE_LIMIT = 1000
"""The most apps a page may hold, whatever the request asks."""


class SnapshotRequest(Model):
    app: str | None = Field(None, description="one app, or every app when None")
    after: str | None = Field(None, description="page cursor: only apps whose name sorts after this one")
    limit: int | None = Field(
        None, ge=1, description="page size in apps (capped by the controller); None: everything in one reply"
    )
    state: bool = Field(
        True,
        description="include each app's desired state (config values and all); False: routing only, "
        "what a router needs, in smaller and quicker pages",
    )


class Snapshot(Model):
    apps: list[AppSnapshot] = Field(default_factory=list)
    next_after: str | None = Field(
        None, description="cursor of the next page; None when this page is the last (or unpaged)"
    )
    positions: dict[str, int] = Field(
        default_factory=dict,
        description="stream name -> last stream sequence this snapshot covers (first page only)",
    )
