"""The backup service: a base backup at start, reported on the bus and in the metrics."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import aiohttp
from conftest import Archive
from pydantic import SecretStr

from deis_backup.service import build
from deis_backup.settings import BackupServiceSettings, BackupSettings, DatabaseSettings
from deis_common.events.backups import BackupCompleted, BackupFailed
from deis_common.service import Service
from deis_common.settings import HttpSettings, NatsSettings, StoreSettings
from deis_common.testing.ports import free_port
from deis_common.testing.recorder import EventRecorder


def service_settings(
    nats_url: str, store: StoreSettings, database_url: str, scratch: Path, password: str = ""
) -> BackupServiceSettings:
    return BackupServiceSettings(
        nats=NatsSettings(url=nats_url),
        http=HttpSettings(port=free_port()),
        store=store,
        database=DatabaseSettings(url=database_url, password=SecretStr(password)),
        backup=BackupSettings(data_dir=scratch, frequency=3600, retain=2, archiver_check_interval=0.5),
        log_json=False,
    )


def metric(exposition: str, sample: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return float("nan")


async def metrics_when(
    http: aiohttp.ClientSession, base: str, condition: Callable[[str], bool], timeout: float = 60
) -> str:
    """The metrics page once ``condition`` holds for it (the archiver is checked on the service's timer)."""
    async with asyncio.timeout(timeout):
        while True:
            async with http.get(f"{base}/metrics") as response:
                text = await response.text()
            if condition(text):
                return text
            await asyncio.sleep(0.2)


async def run_until_failed(service: Service, recorder: EventRecorder) -> tuple[BackupFailed, str]:
    async with service.running(), aiohttp.ClientSession() as http:
        failed = await recorder.wait_for(BackupFailed, timeout=60)
        reached = "deis_backup_database_reachable"
        metrics = await metrics_when(
            http, f"http://127.0.0.1:{service.port}", lambda text: metric(text, reached) == 0
        )
        return failed, metrics


async def test_the_service_backs_up_the_database_at_start_and_reports_it(
    fs_archive: Archive, nats_url: str, recorder: EventRecorder
) -> None:
    service = build(
        service_settings(
            nats_url,
            fs_archive.store,
            fs_archive.database_url,
            fs_archive.root / "scratch",
            password=fs_archive.backup_password,
        )
    )

    async with service.running(), aiohttp.ClientSession() as http:
        completed = await recorder.wait_for(BackupCompleted, timeout=120)
        base = f"http://127.0.0.1:{service.port}"
        async with http.get(f"{base}/backups") as response:
            listed = await response.json()
        # the base backup ends a WAL segment; Postgres archives it and the service sees that
        metrics = await metrics_when(
            http, base, lambda text: metric(text, "deis_backup_wal_archived_files") > 0
        )

    assert completed.size_bytes > 0 and completed.duration_seconds > 0
    assert [backup["name"] for backup in listed["backups"]] == [completed.name]
    assert listed["backups"][0]["start_segment"]
    assert metric(metrics, "deis_backup_last_success_timestamp_seconds") > 0
    assert metric(metrics, "deis_backup_last_size_bytes") == completed.size_bytes
    assert metric(metrics, 'deis_backup_runs_total{outcome="success"}') == 1
    assert metric(metrics, "deis_backup_wal_last_archived_timestamp_seconds") > 0
    assert metric(metrics, "deis_backup_wal_archiving_failing") == 0


async def test_a_backup_that_cannot_reach_the_database_is_reported_as_failed(
    tmp_path: Path, nats_url: str, recorder: EventRecorder
) -> None:
    # A port that is bound but never listens: connections are refused, and nobody else can take it.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        unreachable = f"postgresql://postgres@127.0.0.1:{closed.getsockname()[1]}/deis"
        store = StoreSettings(driver="fs", path=tmp_path / "store")
        service = build(service_settings(nats_url, store, unreachable, tmp_path / "scratch"))
        failed, metrics = await run_until_failed(service, recorder)

    assert "pg_basebackup failed" in failed.reason
    assert metric(metrics, 'deis_backup_runs_total{outcome="failure"}') == 1
    assert metric(metrics, "deis_backup_last_success_timestamp_seconds") == 0
    assert metric(metrics, "deis_backup_database_reachable") == 0
