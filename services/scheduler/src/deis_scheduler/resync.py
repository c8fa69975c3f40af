"""Resynchronisation: the controller's snapshot at start, and periodic self-healing.

At start the scheduler asks the controller for every app's desired state (``deis.v1.controller.snapshot``)
and converges on it, so an event lost while it was down cannot leave an app wrong; while nobody answers
(the controller starting too) it keeps asking in the background. Apps the snapshot no longer lists are
destroyed. Afterwards, every ``resync_interval`` each app is converged quietly on its last applied state,
which restarts processes whose supervisor died.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_scheduler.reconciler import Reconcilers
from deis_scheduler.settings import SchedulerGroup

log = structlog.get_logger(__name__)

SNAPSHOT_TIMEOUT = 5.0


class Resync:
    def __init__(self, bus_of: Callable[[], Bus], reconcilers: Reconcilers, settings: SchedulerGroup) -> None:
        self._bus_of = bus_of
        self.reconcilers = reconcilers
        self.settings = settings
        self.synced = asyncio.Event()

    @property
    def bus(self) -> Bus:
        return self._bus_of()

    async def run(self) -> None:
        """Ask for the snapshot until someone answers; meanwhile and afterwards, heal on every interval."""
        loop = asyncio.get_running_loop()
        next_heal = loop.time()  # at once: restarts what stopped while the scheduler was down
        while True:
            if not self.synced.is_set():
                try:
                    snapshot = await self.bus.request(
                        SNAPSHOT_SUBJECT, SnapshotRequest(), Snapshot, timeout=SNAPSHOT_TIMEOUT
                    )
                except BusError as e:
                    log.info("snapshot.unavailable", reason=str(e))
                else:
                    await self.apply(snapshot)
                    self.synced.set()
            if loop.time() >= next_heal:
                await self.heal()
                next_heal = loop.time() + self.settings.resync_interval
            wait = next_heal - loop.time()
            if not self.synced.is_set():
                wait = min(wait, self.settings.snapshot_retry)
            await asyncio.sleep(max(0.0, wait))

    async def apply(self, snapshot: Snapshot) -> None:
        listed = {entry.app for entry in snapshot.apps}
        running = await self.reconcilers.backend.apps() | set(self.reconcilers.known())
        for app in sorted(running - listed):
            log.info("snapshot.app_gone", app=app)
            await self.reconcilers.destroy(app)
        for entry in snapshot.apps:
            if entry.state is None:
                continue
            try:
                await self.reconcilers.of(entry.app).apply(entry.state, self.bus.publish, quiet=True)
            except Exception:
                log.exception("snapshot.apply_failed", app=entry.app)
        log.info("snapshot.applied", apps=len(snapshot.apps))

    async def heal(self) -> None:
        if self.reconcilers.backend.heals_itself:
            return
        for app, reconciler in self.reconcilers.known().items():
            try:
                await reconciler.heal(self.bus.publish)
            except Exception:
                log.exception("resync.failed", app=app)
