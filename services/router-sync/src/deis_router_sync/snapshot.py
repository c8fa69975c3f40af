"""The controller's snapshot at start: the routes the platform wants, whatever events were missed.

router-sync pages through ``deis.v1.controller.snapshot`` in the background and keeps asking until the
controller answers (it may start later than the router). Each page keeps only what routing needs (the
desired state with its config is dropped at once), and all pages go to nginx together in one reload: a
reload per page would re-render a growing config again and again. Only what no event changed since the
question was asked is taken, so events handled meanwhile keep their say. A page nginx refuses as a whole
(a bad certificate) is retried app by app, each certificate alone, so one app the router cannot serve
does not hold back the others. Apps the controller no longer knows lose their routes.

A new replica's durables start right after the stream positions of the first page (the snapshot holds the
domains, certificates, settings and healthy endpoints the history before them would have told), or at the
beginning of their streams when no controller answers at all.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog

from deis_common.bus import Bus
from deis_common.errors import BusError, NoResponders
from deis_common.events.controller import SNAPSHOT_PAGE_LIMIT, Snapshot
from deis_common.events.state import AppSnapshot, CertBinding, RouteSettings
from deis_common.snapshot import StartingPoint, snapshot_pages
from deis_router_sync.nginx import ReloadFailed
from deis_router_sync.routes import RouteTable
from deis_router_sync.settings import RouterSettings
from deis_router_sync.sync import Change, RouteSync

log = structlog.get_logger(__name__)


class SnapshotFollower:
    def __init__(
        self, bus: Bus, sync: RouteSync, settings: RouterSettings, start: StartingPoint | None = None
    ) -> None:
        self.bus = bus
        self.sync = sync
        self.settings = settings
        self.applied = asyncio.Event()
        self.start = start if start is not None else StartingPoint()

    async def run(self) -> None:
        """Ask until answered and applied; then the task is done."""
        attempts = 0
        while True:
            # Stamped a margin before the question: a change whose event was stamped before the answer but
            # committed after it must still win over the snapshot. Every event after the stamp is delivered
            # anyway, so an earlier stamp only lets more of them have their (correct) say.
            asked_at = datetime.now(UTC) - timedelta(seconds=self.settings.snapshot_margin)
            try:
                await self.resync(asked_at)
            except (BusError, ReloadFailed) as e:
                if isinstance(e, NoResponders):
                    self.start.offer({})  # no controller: new durables learn everything from history
                # Said once at info level; a controller that starts later is the normal case.
                report = log.info if attempts == 0 else log.debug
                report("router.snapshot_pending", reason=str(e), retry_in=self.settings.snapshot_retry)
                attempts += 1
                await asyncio.sleep(self.settings.snapshot_retry)
                continue
            self.applied.set()
            return

    async def resync(self, at: datetime) -> None:
        """Read every page, then hand them to nginx in one go."""
        started = asyncio.get_running_loop().time()
        pages: list[list[Routing]] = []
        # routing only: no desired states (config values are none of the router's business), and pages
        # of the most apps the controller serves at once
        pages_of = snapshot_pages(
            self.bus, timeout=self.settings.snapshot_timeout, state=False, page_size=SNAPSHOT_PAGE_LIMIT
        )
        async for page in pages_of:
            if not pages:
                self.start.offer(page.positions)
            pages.append([_routing_only(item) for item in page.apps])
        read = asyncio.get_running_loop().time()
        await self.apply_pages(pages, at)
        log.info(
            "router.snapshot_applied",
            apps=sum(len(page) for page in pages),
            pages=len(pages),
            read_s=round(read - started, 3),
            applied_s=round(asyncio.get_running_loop().time() - read, 3),
        )

    async def apply(self, snapshot: Snapshot, at: datetime) -> None:
        """Take a whole (unpaged) snapshot."""
        await self.apply_pages([[_routing_only(item) for item in snapshot.apps]], at)

    async def apply_pages(self, pages: list[list[Routing]], at: datetime) -> None:
        known = {item[0] for page in pages for item in page}
        changes = [_adopt_all(page, at) for page in pages]
        changes.append(_forget_others(known, at))
        outcomes = await asyncio.gather(*(self.sync.apply(change) for change in changes))
        for page, outcome in zip(pages, outcomes, strict=False):
            if not outcome.served:
                await self._apply_one_by_one([_expand(item) for item in page], at)

    async def _apply_one_by_one(self, items: list[AppSnapshot], at: datetime) -> None:
        """A page nginx refused as a whole: each app on its own, then those refused piecewise."""
        outcomes = await asyncio.gather(*(self.sync.apply(_adopt(item, at)) for item in items))
        refused = [item for item, outcome in zip(items, outcomes, strict=True) if not outcome.served]
        if refused:
            await self._apply_piecewise(refused, at)

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


Routing = tuple[str, tuple[str, ...], tuple[CertBinding, ...], RouteSettings, tuple[str, ...], int]
"""What the router keeps of an app's snapshot until it is applied: app, domains, certificates, routing,
endpoints and their generation, in plain tuples (a fraction of the models' size, for 100,000 apps)."""

_DEFAULT_ROUTING = RouteSettings()


def _routing_only(item: AppSnapshot) -> Routing:
    """Not the desired state (config values and all); the default routing shared by every app that has it."""
    routing = _DEFAULT_ROUTING if item.routing == _DEFAULT_ROUTING else item.routing
    return (
        item.app,
        tuple(item.domains),
        tuple(item.certs),
        routing,
        tuple(item.endpoints),
        item.endpoints_generation,
    )


def _expand(item: Routing) -> AppSnapshot:
    app, domains, certs, routing, endpoints, generation = item
    return AppSnapshot.model_construct(
        app=app,
        state=None,
        routing=routing,
        domains=list(domains),
        certs=list(certs),
        endpoints=list(endpoints),
        endpoints_generation=generation,
    )


def _adopt_all(items: list[Routing], at: datetime) -> Change:
    def change(table: RouteTable) -> None:
        for item in items:
            table.adopt(_expand(item), at)

    return change


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
