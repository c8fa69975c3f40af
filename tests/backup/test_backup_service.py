"""The backup service: a base backup at start, reported on the bus and in the metrics."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
from conftest import Archive

from deis_backup.service import build
from deis_backup.settings import BackupServiceSettings, BackupSettings, DatabaseSettings
from deis_common.events.backups import BackupCompleted, BackupFailed
from deis_common.service import Service
from deis_common.settings import HttpSettings, NatsSettings, StoreSettings
from deis_common.testing.ports import free_port
from deis_common.testing.recorder import EventRecorder


def service_settings(
    nats_url: str, store: StoreSettings, database_url: str, scratch: Path
) -> BackupServiceSettings:
    return BackupServiceSettings(
        nats=NatsSettings(url=nats_url),
        http=HttpSettings(port=free_port()),
        store=store,
        database=DatabaseSettings(url=database_url),
        backup=BackupSettings(data_dir=scratch, frequency=3600, retain=2),
        log_json=False,
    )


def metric(exposition: str, sample: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no sample {sample} in the metrics")


async def run_until_failed(service: Service, recorder: EventRecorder) -> tuple[BackupFailed, str]:
    async with service.running(), aiohttp.ClientSession() as http:
        failed = await recorder.wait_for(BackupFailed, timeout=60)
        async with http.get(f"http://127.0.0.1:{service.port}/metrics") as response:
            return failed, await response.text()


async def test_the_service_backs_up_the_database_at_start_and_reports_it(
    fs_archive: Archive, nats_url: str, recorder: EventRecorder
) -> None:
    database_url = f"postgresql://postgres@127.0.0.1:{fs_archive.port}/postgres"
    service = build(service_settings(nats_url, fs_archive.store, database_url, fs_archive.root / "scratch"))

    async with service.running(), aiohttp.ClientSession() as http:
        completed = await recorder.wait_for(BackupCompleted, timeout=120)
        base = f"http://127.0.0.1:{service.port}"
        async with http.get(f"{base}/backups") as response:
            listed = await response.json()
        async with http.get(f"{base}/metrics") as response:
            metrics = await response.text()

    assert completed.size_bytes > 0 and completed.duration_seconds > 0
    assert [backup["name"] for backup in listed["backups"]] == [completed.name]
    assert listed["backups"][0]["start_segment"]
    assert metric(metrics, "deis_backup_last_success_timestamp_seconds") > 0
    assert metric(metrics, "deis_backup_last_size_bytes") == completed.size_bytes
    assert metric(metrics, 'deis_backup_runs_total{outcome="success"}') == 1


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
