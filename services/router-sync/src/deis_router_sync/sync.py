"""Applies route changes to nginx: a burst of changes becomes one checked config and one reload.

Handlers hand in a change (a function of the route table) and await its outcome. The sync loop waits a
short debounce after the first pending change, applies everything pending to a copy of the last table
nginx accepted, renders, checks, swaps and reloads once, and resolves every waiter when the new config's
version is being served. When ``nginx -t`` refuses the combined config, the changes are tried one at a time
on top of the last good table, so only the change that broke the config is rejected (and nginx keeps
serving everything else). When the reload itself fails (nginx down or restarting), the checked config
stays on disk as the one to serve, waiters learn of the failure (their events come back later), and the
loop retries with back-off until nginx serves it. The accepted table is saved beside the config so a
restart serves the same routes before any event arrives.

A change costs what the apps it touches cost, not what the whole table does: candidates are derived from
the last table copy-on-write, whether nginx must reload is decided on the touched apps alone, the
renderer keeps each unchanged app's part of the config, and the saved table reuses each unchanged app's
JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from deis_router_sync.nginx import (
    ConfigRejected,
    Nginx,
    ReloadFailed,
    prepare_prefix,
    write_private_chunks,
)
from deis_router_sync.render import Renderer
from deis_router_sync.routes import AppRoute, InvalidRoute, RouteTable
from deis_router_sync.settings import RouterSettings

log = structlog.get_logger(__name__)

Change = Callable[[RouteTable], None]

RETRY_BASE = 0.5
RETRY_MAX = 5.0


@dataclass(frozen=True)
class Outcome:
    status: Literal["served", "rejected"]
    table: RouteTable
    reason: str = ""

    @property
    def served(self) -> bool:
        return self.status == "served"


@dataclass
class _Pending:
    change: Change
    done: asyncio.Future[Outcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    awaited: bool = True
    """False for the loop's own retries, whose outcome nobody waits for."""


def _retry() -> _Pending:
    return _Pending(lambda table: None, awaited=False)


class SyncMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.reloads = Counter(
            "deis_router_reloads",
            "nginx config changes, by outcome (served, rejected, failed)",
            ["outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "deis_router_sync_seconds",
            "Time from the first pending change to the reload taking effect",
            registry=registry,
            buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.apps = Gauge("deis_router_apps", "Apps nginx serves", registry=registry)


class RouteSync:
    def __init__(
        self, settings: RouterSettings, platform_domain: str, registry: CollectorRegistry | None = None
    ) -> None:
        self.settings = settings
        self.renderer = Renderer(settings, platform_domain)
        self.nginx = Nginx(settings)
        self.paths = self.renderer.paths
        self.metrics = SyncMetrics(registry if registry is not None else CollectorRegistry())
        self.table = RouteTable()
        self._live: RouteTable | None = None
        """The table nginx serves (None when unknown: the next sync reloads whatever it finds)."""
        self._saved: dict[str, tuple[AppRoute, str]] = {}
        self._live_version: str | None = None
        self._pending: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._boot = secrets.token_hex(4)
        self._counter = 0
        self._failures = 0
        self.ready = False

    def _version(self) -> str:
        self._counter += 1
        return f"{self._boot}-{self._counter}"

    @property
    def version(self) -> str | None:
        """The config version nginx serves (None before the first reload took effect)."""
        return self._live_version

    # -- the handlers' side ----------------------------------------------------------------------

    async def apply(self, change: Change) -> Outcome:
        """Queue ``change`` for the next reload and wait until nginx serves it (or refused it)."""
        pending = _Pending(change)
        self._pending.append(pending)
        self._wakeup.set()
        return await pending.done

    # -- lifecycle -------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RouteSync]:
        """Load the saved table, serve it (starting nginx when asked to), and keep syncing."""
        prepare_prefix(self.paths)
        try:
            self.table = RouteTable.load(self.paths.table)
        except ValueError:
            log.warning("router.table_unreadable", path=str(self.paths.table))
        version = self._version()
        rendered = self.renderer.render(self.table, version)
        try:
            await self.nginx.check(rendered.text, rendered.files)
        except ConfigRejected as e:
            # Start from nothing rather than not at all: the snapshot and the events rebuild the table.
            log.warning("router.saved_table_rejected", reason=str(e))
            self.table = RouteTable()
            rendered = self.renderer.render(self.table, version)
            await self.nginx.check(rendered.text, rendered.files)
        self.nginx.install()
        self._commit(self.table, persist=True)
        async with contextlib.AsyncExitStack() as stack:
            if self.settings.start_nginx:
                await stack.enter_async_context(self.nginx.owned())
                await self.nginx.wait_version(version)
                self._mark_live(self.table, rendered.files, version)
                self.ready = True
            else:
                # A supervised nginx may still be starting: the loop retries the first reload.
                self._pending.append(_retry())
                self._wakeup.set()
            yield self

    async def run(self) -> None:
        """The sync loop (a service task)."""
        while True:
            await self._wakeup.wait()
            started = time.monotonic()
            await asyncio.sleep(self.settings.debounce)
            self._wakeup.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                await self._sync(batch)
            except asyncio.CancelledError:
                for item in batch:
                    item.done.cancel()
                raise
            except Exception as e:
                self._live = None
                self.metrics.reloads.labels("failed").inc()
                log.warning("router.reload_failed", error=str(e))
                failure = e if isinstance(e, ReloadFailed) else ReloadFailed(str(e))
                for item in batch:
                    if item.done.done():
                        continue
                    if item.awaited:
                        item.done.set_exception(failure)
                    else:
                        item.done.cancel()
                # Keep trying until nginx serves the config on disk (a supervised nginx may be starting
                # or restarting); changes arriving meanwhile join the retry.
                self._failures += 1
                await asyncio.sleep(min(RETRY_MAX, RETRY_BASE * 2 ** (self._failures - 1)))
                self._pending.append(_retry())
                self._wakeup.set()
            else:
                self._failures = 0
                self.metrics.seconds.observe(time.monotonic() - started)

    # -- one sync --------------------------------------------------------------------------------

    async def _sync(self, batch: list[_Pending]) -> None:
        candidate = self.table.derive()
        rejected: dict[int, str] = {}
        for index, item in enumerate(batch):
            try:
                item.change(candidate)
            except InvalidRoute as e:
                rejected[index] = str(e)
        live = self._live
        if live is not None and live is self.table and not _differs(live, candidate, candidate.touched):
            self._commit(candidate, persist=True)
            self._live = candidate
            self._resolve(batch, candidate, rejected)
            return
        version = self._version()
        started = time.monotonic()
        rendered = self.renderer.render(candidate, version)
        try:
            await self.nginx.check(rendered.text, rendered.files)
        except ConfigRejected as whole:
            log.warning("router.config_rejected", reason=str(whole), changes=len(batch))
            candidate, rejected = await self._isolate(batch, rejected)
            rendered = self.renderer.render(candidate, version)
            await self.nginx.check(rendered.text, rendered.files)
        checked = time.monotonic()
        self.nginx.install()
        # The checked config is what nginx must serve from now on, even if this reload fails: a later
        # reload (a retry, or nginx restarting) picks it up.
        self._commit(candidate, persist=True)
        await self.nginx.reload(version)
        self._mark_live(candidate, rendered.files, version)
        self.ready = True
        self.metrics.reloads.labels("served").inc()
        if rejected:
            self.metrics.reloads.labels("rejected").inc()
        log.info(
            "router.reloaded",
            version=version,
            apps=len(candidate.apps),
            changes=len(batch),
            rejected=len(rejected),
            check_ms=round((checked - started) * 1000, 1),
            reload_ms=round((time.monotonic() - checked) * 1000, 1),
        )
        self._resolve(batch, candidate, rejected)

    async def _isolate(
        self, batch: list[_Pending], invalid: dict[int, str]
    ) -> tuple[RouteTable, dict[int, str]]:
        """Apply the changes one by one on the last good table; keep those nginx accepts."""
        good = self.table.derive()
        rejected = dict(invalid)
        for index, item in enumerate(batch):
            if index in rejected:
                continue
            trial = good.derive()
            item.change(trial)
            if not _differs(good, trial, trial.touched):
                good = trial
                continue
            rendered = self.renderer.render(trial, "trial")
            try:
                await self.nginx.check(rendered.text, rendered.files)
            except ConfigRejected as e:
                rejected[index] = str(e)
            else:
                good = trial
        return good, rejected

    def _resolve(self, batch: list[_Pending], table: RouteTable, rejected: dict[int, str]) -> None:
        for index, item in enumerate(batch):
            if item.done.done():
                continue
            if index in rejected:
                item.done.set_result(Outcome("rejected", table, rejected[index]))
            else:
                item.done.set_result(Outcome("served", table))

    def _mark_live(self, table: RouteTable, files: dict[Path, str], version: str) -> None:
        self._live = table
        self._live_version = version
        self.metrics.apps.set(sum(1 for route in table.apps.values() if route.routing.routable))
        self._commit(table, persist=table is not self.table)
        self.nginx.prune_certs(set(files))

    def _commit(self, table: RouteTable, *, persist: bool) -> None:
        self.table = table
        if persist:
            write_private_chunks(self.paths.table, self._table_json(table))

    def _table_json(self, table: RouteTable) -> Iterator[str]:
        """``table.model_dump_json()`` in pieces, reusing the JSON of every route saved before and
        unchanged since (a table of 100,000 apps is neither dumped nor joined whole)."""
        saved: dict[str, tuple[AppRoute, str]] = {}
        yield '{"apps":{'
        for index, (name, route) in enumerate(table.apps.items()):
            known = self._saved.get(name)
            text = known[1] if known is not None and known[0] is route else route.model_dump_json()
            saved[name] = (route, text)
            yield f"{',' if index else ''}{json.dumps(name)}:"
            yield text
        self._saved = saved
        destroyed = RouteTable(destroyed=table.destroyed).model_dump_json(include={"destroyed"})
        yield "}," + destroyed[1:]


def _differs(base: RouteTable, candidate: RouteTable, names: set[str]) -> bool:
    """Whether any of ``names`` is served differently in ``candidate`` than in ``base``."""
    for name in names:
        before, after = base.apps.get(name), candidate.apps.get(name)
        if before is after:
            continue
        if before is None or after is None or before.view() != after.view():
            return True
    return False
