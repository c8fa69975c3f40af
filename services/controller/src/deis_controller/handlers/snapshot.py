"""Answers ``deis.v1.controller.snapshot``: the desired state and routing of one app or of all apps.

Consumers that keep derived state (scheduler, router-sync) ask at start and reconcile with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_controller.controller import Controller
from deis_controller.domain.state import snapshots


async def answer(ctl: Controller, request: SnapshotRequest) -> Snapshot:
    async with ctl.db.read() as tx:
        return Snapshot(apps=await snapshots(tx, request.app))


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
