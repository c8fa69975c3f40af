"""Health checks (httpGet, tcpSocket, exec), app destruction, and convergence on the controller's snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from deis_common.bus import Bus
from deis_common.events.apps import AppDestroyed
from deis_common.events.containers import ContainersHealthy
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_common.events.deploys import DeployFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import AppSnapshot
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter, stop_processes
from tests.scheduler.http import eventually, get, reachable
from tests.scheduler.test_rolling_deploy import deploy

pytestmark = pytest.mark.sandbox

FAST = {"periodSeconds": 1, "timeoutSeconds": 1, "failureThreshold": 1}


async def test_an_http_readiness_probe_on_a_path_gates_the_deploy(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
) -> None:
    settings.scheduler.deploy_timeout = 4
    ok = {"web": {"readinessProbe": {"httpGet": {"path": "/whoami"}, **FAST}}}
    healthy = await deploy(bus, recorder, await web_release(store, "probed", healthchecks=ok))
    assert await get(healthy.endpoints[0]) == (200, "hello from v2")

    # The test app answers every path with 200, so point the probe at a port nothing listens on.
    broken = {"web": {"readinessProbe": {"httpGet": {"path": "/", "port": 1}, **FAST}}}
    state = await web_release(store, "probed", version=3, healthchecks=broken)
    await bus.publish(ReleaseCreated(app="probed", state=state))
    failed = await recorder.wait_for(DeployFailed, where=lambda e: e.app == "probed", timeout=30)

    assert "did not become ready" in failed.reason
    assert await get(healthy.endpoints[0]) == (200, "hello from v2")


async def test_an_exec_readiness_probe_runs_inside_the_apps_sandbox(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
) -> None:
    settings.scheduler.deploy_timeout = 4
    passes = {"web/cmd": {"readinessProbe": {"exec": {"command": ["test", "-f", "/app/server.py"]}, **FAST}}}
    await deploy(bus, recorder, await web_release(store, "execd", healthchecks=passes))

    fails = {"web/cmd": {"readinessProbe": {"exec": {"command": ["test", "-f", "/app/missing"]}, **FAST}}}
    state = await web_release(store, "execd", version=3, healthchecks=fails)
    await bus.publish(ReleaseCreated(app="execd", state=state))

    await recorder.wait_for(DeployFailed, where=lambda e: e.app == "execd", timeout=30)


async def test_a_failing_liveness_probe_restarts_the_process(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    dies = {"web": {"livenessProbe": {"tcpSocket": {"port": 1}, "initialDelaySeconds": 0, **FAST}}}
    healthy = await deploy(bus, recorder, await web_release(store, "lively", healthchecks=dies))

    async def restarted() -> bool:
        ps = await bus.request(PS_SUBJECT, PsRequest(app="lively"), PsReply)
        return any(line for line in await bus.read_log("lively") if "Liveness probe failed" in line) and bool(
            ps.processes
        )

    await eventually(restarted, timeout=20)
    assert healthy.endpoints


async def test_a_destroyed_app_loses_its_processes_and_files(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    healthy = await deploy(
        bus, recorder, await web_release(store, "doomed", structure={"web": 2, "worker": 1})
    )

    await bus.publish(AppDestroyed(app="doomed"))

    async def gone() -> bool:
        ps = await bus.request(PS_SUBJECT, PsRequest(app="doomed"), PsReply)
        return not ps.processes and not (data_dir / "apps" / "doomed.json").exists()

    await eventually(gone)
    for endpoint in healthy.endpoints:
        assert not await reachable(endpoint)
    assert not (data_dir / "processes" / "doomed").exists()


async def test_at_start_the_scheduler_converges_on_the_controllers_snapshot(
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    settings.scheduler.snapshot_retry = 0.2
    kept = await web_release(store, "kept")
    gone = await web_release(store, "gone", sha="0ddba11")
    missed = await web_release(store, "missed", sha="5eed5eed")
    try:
        async with build(settings).running():
            await deploy(bus, recorder, kept)
            await deploy(bus, recorder, gone)

        # While the scheduler was down: "gone" was destroyed, "missed" was released, and the controller
        # starts answering only after the scheduler (which keeps asking).
        async with build(settings).running():

            async def answer(_: SnapshotRequest) -> Snapshot:
                return Snapshot(apps=[AppSnapshot(app=s.app, state=s) for s in (kept, missed)])

            await bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, answer, queue="controller")
            healthy = await recorder.wait_for(
                ContainersHealthy, where=lambda e: e.app == "missed", timeout=30
            )
            assert await get(healthy.endpoints[0]) == (200, "hello from v2")

            async def converged() -> bool:
                gone_ps = await bus.request(PS_SUBJECT, PsRequest(app="gone"), PsReply)
                kept_ps = await bus.request(PS_SUBJECT, PsRequest(app="kept"), PsReply)
                return not gone_ps.processes and [p.state for p in kept_ps.processes] == ["up"]

            await eventually(converged)
        assert len([e for e in recorder.of(ContainersHealthy) if e.app == "kept"]) == 1, "kept was left alone"
    finally:
        await stop_processes(data_dir)


async def test_a_generation_missed_while_down_is_reported_even_when_nothing_changes(
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    settings.scheduler.snapshot_retry = 0.2
    state = await web_release(store, "missed-scale")
    newer = state.model_copy(update={"generation": state.generation + 1})
    try:
        async with build(settings).running():
            first = await deploy(bus, recorder, state)

        async def answer(_: SnapshotRequest) -> Snapshot:
            return Snapshot(apps=[AppSnapshot(app=newer.app, state=newer)])

        await bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, answer, queue="controller")
        async with build(settings).running():
            reported = await recorder.wait_for(
                ContainersHealthy, where=lambda e: e.generation == newer.generation, timeout=30
            )
        assert reported.endpoints == first.endpoints, "nothing was restarted"
    finally:
        await stop_processes(data_dir)
