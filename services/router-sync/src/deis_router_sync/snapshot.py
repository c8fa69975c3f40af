"""The controller's snapshot at start: the routes the platform wants, whatever events were missed.

router-sync asks ``deis.v1.controller.snapshot`` in the background and keeps asking until the controller
answers (it may start later than the router). The answer is applied app by app, so one app the router
cannot serve does not hold back the others, and only what no event changed since the question was asked.
Apps the controller no longer knows lose their routes. Endpoints are not in the snapshot: they come from
``containers.healthy`` and the table saved on disk.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog

from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_common.events.state import AppSnapshot, CertBinding
from deis_router_sync.nginx import ReloadFailed
from deis_router_sync.routes import RouteTable
from deis_router_sync.settings import RouterSettings
from deis_router_sync.sync import Change, RouteSync

log = structlog.get_logger(__name__)


class SnapshotFollower:
    def __init__(self, bus: Bus, sync: RouteSync, settings: RouterSettings) -> None:
        self.bus = bus
        self.sync = sync
        self.settings = settings
        self.applied = asyncio.Event()

    async def run(self) -> None:
        """Ask until answered and applied; then the task is done."""
        attempts = 0
        while True:
            # Stamped a margin before the question: a change whose event was stamped before the answer but
            # committed after it must still win over the snapshot. Every event after the stamp is delivered
            # anyway, so an earlier stamp only lets more of them have their (correct) say.
            asked_at = datetime.now(UTC) - timedelta(seconds=self.settings.snapshot_margin)
            try:
                snapshot = await self.bus.request(
                    SNAPSHOT_SUBJECT,
                    SnapshotRequest(app=None),
                    Snapshot,
                    timeout=self.settings.snapshot_timeout,
                )
                await self.apply(snapshot, asked_at)
            except (BusError, ReloadFailed) as e:
                # Said once at info level; a controller that starts later is the normal case.
                report = log.info if attempts == 0 else log.debug
                report("router.snapshot_pending", reason=str(e), retry_in=self.settings.snapshot_retry)
                attempts += 1
                await asyncio.sleep(self.settings.snapshot_retry)
                continue
            self.applied.set()
            return

    async def apply(self, snapshot: Snapshot, at: datetime) -> None:
        known = {item.app for item in snapshot.apps}
        changes = [_adopt(item, at) for item in snapshot.apps]
        changes.append(_forget_others(known, at))
        outcomes = await asyncio.gather(*(self.sync.apply(change) for change in changes))
        refused = [item for item, outcome in zip(snapshot.apps, outcomes, strict=False) if not outcome.served]
        if refused:
            await self._apply_piecewise(refused, at)
        log.info("router.snapshot_applied", apps=len(known))

    async def _apply_piecewise(self, items: list[AppSnapshot], at: datetime) -> None:
        """An app nginx refused as a whole (a bad certificate): take all else, each certificate alone."""
        changes: list[tuple[str, Change]] = []
        for item in items:
            changes.append((item.app, _adopt(item.model_copy(update={"certs": []}), at)))
            changes += [(f"{item.app} ({cert.domain})", _attach(item.app, cert, at)) for cert in item.certs]
        outcomes = await asyncio.gather(*(self.sync.apply(change) for _, change in changes))
        for (what, _), outcome in zip(changes, outcomes, strict=True):
            if not outcome.served:
                log.warning("router.snapshot_rejected", what=what, reason=outcome.reason)


def _adopt(item: AppSnapshot, at: datetime) -> Change:
    def change(table: RouteTable) -> None:
        table.adopt(item, at)

    return change


def _attach(app: str, cert: CertBinding, at: datetime) -> Change:
    def change(table: RouteTable) -> None:
        table.attach_cert(app, cert, at)

    return change


def _forget_others(known: set[str], at: datetime) -> Change:
    def change(table: RouteTable) -> None:
        table.forget_others(known, at)

    return change
