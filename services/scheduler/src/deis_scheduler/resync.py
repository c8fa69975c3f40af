"""Resynchronisation: the controller's snapshot at start, and periodic self-healing.

At start the scheduler pages through the controller's snapshot of every app's desired state
(``deis.v1.controller.snapshot``) and converges on each page before asking for the next, so an event lost
while it was down cannot leave an app wrong, and memory stays bounded however many apps there are; while
nobody answers (the controller starting too) it keeps asking in the background. Apps the snapshot no
longer lists are destroyed once the last page is in. New durables start right after the stream positions
the first page carries (the snapshot holds what came before), or at the beginning of their streams when
no controller answers at all. Afterwards, every ``resync_interval`` each app is
converged quietly on its last applied state, which restarts processes whose supervisor died.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from deis_common.bus import Bus
from deis_common.errors import BusError, NoResponders
from deis_common.events.controller import Snapshot
from deis_common.snapshot import StartingPoint, snapshot_pages
from deis_scheduler.reconciler import Reconcilers
from deis_scheduler.settings import SchedulerGroup

log = structlog.get_logger(__name__)

SNAPSHOT_TIMEOUT = 5.0
APPLY_CONCURRENCY = 16


class Resync:
    def __init__(self, bus_of: Callable[[], Bus], reconcilers: Reconcilers, settings: SchedulerGroup) -> None:
        self._bus_of = bus_of
        self.reconcilers = reconcilers
        self.settings = settings
        self.synced = asyncio.Event()
        self.start = StartingPoint()

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
                    await self.resync()
                except NoResponders as e:
                    # no controller at all: history is the only account of the apps, so new durables
                    # start at the beginning of their streams
                    self.start.offer({})
                    log.info("snapshot.unavailable", reason=str(e))
                except BusError as e:
                    log.info("snapshot.unavailable", reason=str(e))
                else:
                    self.synced.set()
            if loop.time() >= next_heal:
                await self.heal()
                next_heal = loop.time() + self.settings.resync_interval
            wait = next_heal - loop.time()
            if not self.synced.is_set():
                wait = min(wait, self.settings.snapshot_retry)
            await asyncio.sleep(max(0.0, wait))

    async def resync(self) -> None:
        """Converge on every page of the snapshot, then destroy the apps no page listed."""
        started = asyncio.get_running_loop().time()
        listed: set[str] = set()
        async for page in snapshot_pages(self.bus, timeout=SNAPSHOT_TIMEOUT):
            if not listed:
                self.start.offer(page.positions)
            await self.apply_page(page)
            listed.update(entry.app for entry in page.apps)
        await self.forget_others(listed)
        elapsed = asyncio.get_running_loop().time() - started
        log.info("snapshot.applied", apps=len(listed), seconds=round(elapsed, 3))

    async def apply(self, snapshot: Snapshot) -> None:
        """Converge on a whole (unpaged) snapshot: its apps, and nothing else."""
        await self.apply_page(snapshot)
        await self.forget_others({entry.app for entry in snapshot.apps})

    async def apply_page(self, page: Snapshot) -> None:
        # apps are independent: a page converges a few at a time (a deploy mostly waits), by a fixed
        # number of workers taking the next app (a task per app costs more than most apps' convergence)
        entries = iter([entry for entry in page.apps if entry.state is not None])

        async def worker() -> None:
            for entry in entries:
                state = entry.state
                assert state is not None
                # the endpoints the controller recorded for this very generation need no new announcement
                reported = entry.endpoints if entry.endpoints_generation == state.generation else None
                try:
                    await self.reconcilers.of(entry.app).apply(
                        state, self.bus.publish, quiet=True, reported=reported
                    )
                except Exception:
                    log.exception("snapshot.apply_failed", app=entry.app)

        await asyncio.gather(*(worker() for _ in range(APPLY_CONCURRENCY)))

    async def forget_others(self, listed: set[str]) -> None:
        running = await self.reconcilers.backend.apps() | set(self.reconcilers.known())
        for app in sorted(running - listed):
            log.info("snapshot.app_gone", app=app)
            await self.reconcilers.destroy(app)

    async def heal(self) -> None:
        if self.reconcilers.backend.heals_itself:
            return
        for app, reconciler in self.reconcilers.known().items():
            try:
                await reconciler.heal(self.bus.publish)
            except Exception:
                log.exception("resync.failed", app=app)
