"""Answers ``deis.v1.controller.snapshot``: the desired state and routing of one app, or a page of all apps.

Consumers that keep derived state (scheduler, router-sync) page through it at start and reconcile with it.
A page holds at most the requested number of apps and is cut short before its reply would pass half of
the server's largest payload, so a page always travels, however large apps' config or certificates are.
"""

from __future__ import annotations

import contextlib
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
from deis_common.events.state import AppSnapshot
from deis_controller.controller import Controller
from deis_controller.domain.state import snapshots

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


def fit(apps: list[AppSnapshot], budget: int) -> list[AppSnapshot]:
    """The longest prefix of ``apps`` whose JSON fits ``budget`` bytes (at least one app)."""
    if len(Snapshot(apps=apps).model_dump_json()) <= budget:
        return apps  # the usual case, in one serialisation
    used = 0
    for index, item in enumerate(apps):
        used += len(item.model_dump_json()) + 1
        if used > budget and index > 0:
            return apps[:index]
    return apps


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


async def answer(ctl: Controller, request: SnapshotRequest, budget: int | None = None) -> Snapshot:
    if request.app is not None or request.limit is None:
        async with ctl.db.read() as tx:
            return Snapshot(
                apps=await snapshots(tx, request.app, after=request.after, with_state=request.state)
            )
    limit = min(request.limit, SNAPSHOT_PAGE_LIMIT)
    # the positions first, the state after: an event at or before them is in the state read
    covered = await positions(ctl) if request.after is None else {}
    async with ctl.db.read() as tx:
        apps = await snapshots(tx, None, after=request.after, limit=limit, with_state=request.state)
    page = fit(apps, budget if budget is not None else page_budget(ctl.bus.max_payload))
    more = len(page) < len(apps) or len(apps) == limit
    return Snapshot(apps=page, next_after=page[-1].app if more and page else None, positions=covered)


def responder(ctl: Controller) -> contextlib.AbstractAsyncContextManager[None]:
    @contextlib.asynccontextmanager
    async def serving() -> AsyncIterator[None]:
        async def handle(request: SnapshotRequest) -> Snapshot:
            return await answer(ctl, request)

        sub = await ctl.bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, handle, queue="controller")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    return serving()
