"""Answers ``deis.v1.controller.snapshot``: the desired state and routing of one app, or a page of all apps.

Consumers that keep derived state (scheduler, router-sync) page through it at start and reconcile with it.
A page holds at most the requested number of apps and is cut short before its reply would pass half of
the server's largest payload, so a page always travels, however large apps' config or certificates are.
A page's JSON is written by Postgres (``db/snapshot_json.py``, through ``domain.state.snapshot_page``) and
forwarded as it is: the controller decodes no row of it, which is what lets a resync of 100,000 apps go at
the speed of its consumer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import structlog

from deis_common.errors import BusError
from deis_common.events.apps import AppScaled
from deis_common.events.certs import CertAttached
from deis_common.events.containers import ContainersHealthy
from deis_common.events.controller import SNAPSHOT_PAGE_LIMIT, SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_common.events.domains import DomainAdded
from deis_common.events.registry import stream_name
from deis_common.events.releases import ReleaseCreated
from deis_controller.controller import Controller
from deis_controller.domain.state import snapshot_page, snapshots

log = structlog.get_logger(__name__)

# Streams of the controller's own events: whatever is in them was committed before it was published
# (the outbox), so a snapshot read after their last sequence holds its effect.
OWN_STREAMS = tuple(stream_name(e.family) for e in (AppScaled, ReleaseCreated, DomainAdded, CertAttached))
# Reports the snapshot records (healthy endpoints): covered up to what the controller's durable acknowledged.
RECORDED = ((ContainersHealthy, "containers-healthy"),)

# what the page's envelope and one app's separator cost beside the apps themselves
_PAGE_OVERHEAD = 4096


def page_budget(max_payload: int) -> int:
    """Bytes of apps one reply may carry: half the server's limit, leaving room for everything else."""
    return max(64 * 1024, max_payload // 2 - _PAGE_OVERHEAD)


class PageSizer:
    """How many apps to read for a page: as many as the budget held at the size apps had on the last page
    (with a little room), so the page is not cut short after reading several times what it sends."""

    HEADROOM = 1.2

    def __init__(self) -> None:
        self._per_app: dict[bool, float] = {}  # routing-only apps are a fraction of full ones

    def limit(self, requested: int, budget: int, with_state: bool) -> int:
        per_app = self._per_app.get(with_state)
        if per_app is None:
            return requested
        return max(1, min(requested, int(budget / per_app * self.HEADROOM)))

    def observe(self, docs: list[str], with_state: bool) -> None:
        if docs:
            self._per_app[with_state] = sum(len(d) + 1 for d in docs) / len(docs)


async def positions(ctl: Controller) -> dict[str, int]:
    """Stream -> the last sequence whose effect any snapshot read from now on holds.

    Read before the state; a stream that cannot be read is left out (its new consumers replay it).
    """
    out: dict[str, int] = {}
    try:
        for event, handler in RECORDED:
            floor = await ctl.bus.consumer_floor(stream_name(event.family), f"{ctl.service.name}-{handler}")
            if floor is not None:
                out[stream_name(event.family)] = floor
        for stream in OWN_STREAMS:
            out[stream] = await ctl.bus.last_sequence(stream)
    except BusError as e:
        log.warning("snapshot.positions_unavailable", error=str(e))
    return out


async def answer(
    ctl: Controller, request: SnapshotRequest, sizer: PageSizer, budget: int | None = None
) -> Snapshot | bytes:
    """One app or everything in one reply (a Snapshot), or a page (its JSON, as Postgres wrote it)."""
    if request.app is not None or request.limit is None:
        async with ctl.db.read() as tx:
            return Snapshot(
                apps=await snapshots(tx, request.app, after=request.after, with_state=request.state)
            )
    budget = budget if budget is not None else page_budget(ctl.bus.max_payload)
    limit = sizer.limit(min(request.limit, SNAPSHOT_PAGE_LIMIT), budget, request.state)
    # the positions first, the state after: an event at or before them is in the state read
    covered = await positions(ctl) if request.after is None else {}
    async with ctl.db.read() as tx:
        page = await snapshot_page(
            tx, after=request.after, limit=limit, budget=budget, with_state=request.state
        )
    sizer.observe(page.docs, request.state)
    more = len(page.docs) < page.listed or page.listed == limit
    next_after = page.last if more else None
    return (
        f'{{"apps":[{",".join(page.docs)}],"next_after":{json.dumps(next_after)},'
        f'"positions":{json.dumps(covered)}}}'
    ).encode()


def responder(ctl: Controller) -> contextlib.AbstractAsyncContextManager[None]:
    @contextlib.asynccontextmanager
    async def serving() -> AsyncIterator[None]:
        sizer = PageSizer()

        async def handle(request: SnapshotRequest) -> Snapshot | bytes:
            return await answer(ctl, request, sizer)

        sub = await ctl.bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, handle, queue="controller")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    return serving()
