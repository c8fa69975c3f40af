"""The backup service: a base backup at start and every ``DEIS_BACKUP__FREQUENCY``, then retention.

Each run publishes ``backups.completed`` (name, compressed size, duration) or ``backups.failed``
(reason) and updates the metrics an operator alerts on: the time of the last successful backup, its size
and how long it took. A failed run is retried after ``DEIS_BACKUP__RETRY_DELAY`` (never later than the
regular schedule). ``GET /backups`` lists the catalog. WAL archiving itself does not go through the
service: Postgres runs ``deis-backup wal-push`` directly (:mod:`deis_backup.cli`); the service only watches
the server's archiver statistics and exports them (:mod:`deis_backup.archiver`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from deis_backup import archiver, basebackup, catalog
from deis_backup.archiver import ArchiverMetrics
from deis_backup.catalog import BackupInfo
from deis_backup.server_user import grant_archive_access, server_user
from deis_backup.settings import BackupServiceSettings
from deis_common.errors import BusError, DeisError
from deis_common.events.backups import BackupCompleted, BackupFailed
from deis_common.service import Service
from deis_common.store import ObjectStore, open_store

log = structlog.get_logger(__name__)


class BackupMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.last_success = Gauge(
            "deis_backup_last_success_timestamp_seconds",
            "Unix time the last base backup finished successfully",
            registry=registry,
        )
        self.last_size = Gauge(
            "deis_backup_last_size_bytes",
            "Compressed size of the last base backup in the store",
            registry=registry,
        )
        self.last_raw_size = Gauge(
            "deis_backup_last_raw_size_bytes", "Uncompressed size of the last base backup", registry=registry
        )
        self.duration = Histogram(
            "deis_backup_duration_seconds",
            "Duration of base backups (successful or not)",
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200),
            registry=registry,
        )
        self.runs = Counter("deis_backup_runs", "Base backup runs by outcome", ["outcome"], registry=registry)
        self.retained = Gauge("deis_backup_retained", "Base backups kept in the store", registry=registry)


class BackupScheduler:
    """Takes base backups on a timer and applies retention; owned by the service as a task."""

    def __init__(self, service: Service, settings: BackupServiceSettings, metrics: BackupMetrics) -> None:
        self.service = service
        self.settings = settings
        self.metrics = metrics
        self.store: ObjectStore | None = None

    @contextlib.asynccontextmanager
    async def opened(self, _: Service) -> AsyncIterator[BackupScheduler]:
        """The store, open while the service runs (a service resource)."""
        backup = self.settings.backup
        await asyncio.to_thread(
            grant_archive_access, self.settings.store, backup.bucket, server_user(backup.server_user)
        )
        async with open_store(self.settings.store) as store:
            await store.ensure_bucket(backup.bucket)
            self.store = store
            try:
                yield self
            finally:
                self.store = None

    async def run(self) -> None:
        backup = self.settings.backup
        while True:
            succeeded = await self.run_once()
            await asyncio.sleep(backup.frequency if succeeded else min(backup.frequency, backup.retry_delay))

    async def run_once(self) -> BackupInfo | None:
        """One base backup plus retention; publishes the outcome. Returns the backup, or None on failure."""
        assert self.store is not None, "the store opens with the service"
        backup = self.settings.backup
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            info = await basebackup.take(
                self.store,
                backup.bucket,
                self.settings.database.url,
                password=self.settings.database.password_or_none(),
                level=backup.compression_level,
                timeout=backup.basebackup_timeout,
            )
            pruned = await catalog.prune(self.store, backup.bucket, backup.retain)
            retained = len(await catalog.list_entries(self.store, backup.bucket))
        except (DeisError, OSError) as e:
            await self._failed(str(e), loop.time() - began)
            return None
        except Exception as e:
            # A bug must not stop the schedule (and the archive watch) for good: report it and retry later.
            log.exception("backup.crashed")
            await self._failed(f"unexpected error: {type(e).__name__}: {e}", loop.time() - began)
            return None
        self.metrics.duration.observe(info.duration_seconds)
        self.metrics.runs.labels("success").inc()
        self.metrics.last_success.set(info.finished_at.timestamp())
        self.metrics.last_size.set(info.size_bytes)
        self.metrics.last_raw_size.set(info.raw_size_bytes)
        self.metrics.retained.set(retained)
        log.info(
            "backup.completed",
            name=info.name,
            size_bytes=info.size_bytes,
            duration_seconds=info.duration_seconds,
            pruned_backups=len(pruned.backups),
            pruned_wal_files=pruned.wal_files,
        )
        await self._publish(
            BackupCompleted(
                name=info.name, size_bytes=info.size_bytes, duration_seconds=info.duration_seconds
            )
        )
        return info

    async def _failed(self, reason: str, duration: float) -> None:
        self.metrics.duration.observe(duration)
        self.metrics.runs.labels("failure").inc()
        log.error("backup.failed", reason=reason)
        await self._publish(BackupFailed(reason=reason))

    async def _publish(self, event: BackupCompleted | BackupFailed) -> None:
        try:
            await self.service.bus.publish(event)
        except BusError as e:
            log.warning("backup.event_not_published", event=event.subject, error=str(e))

    async def list_backups(self, _: web.Request) -> web.Response:
        assert self.store is not None
        entries = await catalog.list_entries(self.store, self.settings.backup.bucket)
        return web.json_response(
            {
                "backups": [
                    entry.info.model_dump(mode="json")
                    if entry.info
                    else {"name": entry.name, "damaged": entry.damaged}
                    for entry in entries
                ]
            }
        )


def build(settings: BackupServiceSettings) -> Service:
    service = Service("backup", settings)
    scheduler = BackupScheduler(service, settings, BackupMetrics(service.registry))
    service.add_resource(scheduler.opened)
    service.add_task("base-backups", scheduler.run)
    archiver_metrics = ArchiverMetrics(service.registry)
    service.add_task(
        "archiver-watch",
        lambda: archiver.watch(
            settings.database.url,
            archiver_metrics,
            settings.backup.archiver_check_interval,
            password=settings.database.password_or_none(),
        ),
    )
    service.http.router.add_get("/backups", scheduler.list_backups)
    return service
