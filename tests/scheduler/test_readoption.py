"""Processes outlive the scheduler: a restarted scheduler re-adopts them and the app serves throughout."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.events.containers import ContainersHealthy
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import AppSnapshot, AppState
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter, stop_processes
from tests.scheduler.http import eventually, get, reachable
from tests.scheduler.test_rolling_deploy import deploy

pytestmark = pytest.mark.sandbox


class Prober:
    """Sends requests continuously and counts the ones that fail."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.sent = 0
        self.failed = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.sent += 1
            try:
                status, _ = await get(self.endpoint, timeout=10)
                self.failed += status != 200
            except (OSError, TimeoutError, IndexError, ValueError):
                self.failed += 1
            await asyncio.sleep(0.02)

    def __enter__(self) -> Prober:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def serve_snapshot(bus: Bus, states: list[AppState]) -> object:
    async def answer(_: SnapshotRequest) -> Snapshot:
        return Snapshot(apps=[AppSnapshot(app=s.app, state=s) for s in states])

    return await bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, answer, queue="controller")


async def test_a_restarted_scheduler_readopts_its_processes_and_the_app_serves_throughout(
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    state = await web_release(store, "steady", structure={"web": 2})
    try:
        async with build(settings).running():
            healthy = await deploy(bus, recorder, state)
        with Prober(healthy.endpoints[0]) as prober:
            await eventually(lambda: asyncio.sleep(0.3, result=prober.sent > 5))
            await serve_snapshot(bus, [state])
            async with build(settings).running():
                await eventually(lambda: _all_up(bus, "steady"))
                ps = await bus.request(PS_SUBJECT, PsRequest(app="steady"), PsReply)
                assert {p.name for p in ps.processes} == {p.name for p in healthy.processes}
                await asyncio.sleep(0.5)  # keep probing across the adoption
        assert prober.failed == 0 and prober.sent > 10
        assert [e for e in recorder.of(type(healthy)) if e.app == "steady"] == [healthy], "nothing redeployed"
    finally:
        await stop_processes(data_dir)


async def _all_up(bus: Bus, app: str) -> bool:
    try:
        ps = await bus.request(PS_SUBJECT, PsRequest(app=app), PsReply, timeout=1)
    except BusError:
        return False  # the scheduler is still starting
    return bool(ps.processes) and all(p.state == "up" for p in ps.processes)


def start_scheduler(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "deis_scheduler"], env=env, stdout=subprocess.DEVNULL)


async def test_processes_survive_a_killed_scheduler_process(
    settings: SchedulerSettings,
    nats_url: str,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DEIS_NATS__URL": nats_url,
        "DEIS_HTTP__PORT": str(settings.http.port),
        "DEIS_STORE__DRIVER": "fs",
        "DEIS_STORE__PATH": str(tmp_path / "store"),
        "DEIS_SCHEDULER__BACKEND": "local",
        "DEIS_SCHEDULER__DATA_DIR": str(data_dir),
        "DEIS_SCHEDULER__STOP_GRACE": "2",
    }
    state = await web_release(store, "sturdy")
    await serve_snapshot(bus, [state])
    scheduler = start_scheduler(env)
    try:
        healthy = await deploy(bus, recorder, state)
        with Prober(healthy.endpoints[0]) as prober:
            scheduler.send_signal(signal.SIGKILL)
            scheduler.wait()
            await asyncio.sleep(0.5)
            scheduler = start_scheduler(env)
            await eventually(lambda: _all_up(bus, "sturdy"))
        assert prober.failed == 0 and prober.sent > 5
        assert await get(healthy.endpoints[0]) == (200, "hello from v2")
    finally:
        scheduler.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            scheduler.wait(10)
        await stop_processes(data_dir)


async def test_stopped_processes_come_back_when_the_scheduler_starts_again(
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    state = await web_release(store, "sleeper", structure={"web": 1, "worker": 1})
    try:
        async with build(settings).running():
            first = await deploy(bus, recorder, state)
        env = {**os.environ, "DEIS_SCHEDULER__DATA_DIR": str(data_dir), "DEIS_SCHEDULER__STOP_GRACE": "2"}
        stopped = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "deis_scheduler", "stop-processes", env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await stopped.communicate()
        assert stopped.returncode == 0 and b"stopped 2 app process(es)" in out
        assert not await reachable(first.endpoints[0])

        async with build(settings).running():
            back = await recorder.wait_for(
                ContainersHealthy,
                where=lambda e: e.app == "sleeper" and e.endpoints != first.endpoints,
                timeout=30,
            )
            assert await get(back.endpoints[0]) == (200, "hello from v2")
            assert sorted(p.type for p in back.processes) == ["web", "worker"]
    finally:
        await stop_processes(data_dir)
