"""Running processes: crash restarts, memory limits, isolation, restart, one-off runs and app logs."""

from __future__ import annotations

import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from deis_common import cgroups, netns
from deis_common.bus import Bus
from deis_common.events.apps import RestartRequested, RunRequested
from deis_common.events.containers import ContainersCrashed, ContainersHealthy
from deis_common.events.runs import RunFinished
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.backends.local.launcher import cgroup_root_name
from deis_scheduler.backends.local.process import Process
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import eventually, get, reachable
from tests.scheduler.test_rolling_deploy import deploy

pytestmark = pytest.mark.sandbox

NAME = re.compile(r"^again-web-[0-9]{8,10}-[a-z0-9]{5}$")


def processes_of(data_dir: Path, app: str) -> list[Process]:
    found = [Process.load(d) for d in sorted((data_dir / "processes" / app).iterdir())]
    return [p for p in found if p is not None]


async def test_a_process_that_exits_is_restarted_and_reported_crashed(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    healthy = await deploy(bus, recorder, await web_release(store, "crashy"))
    endpoint = healthy.endpoints[0]

    with pytest.raises((OSError, IndexError, ValueError)):
        await get(endpoint, "/exit")
    crashed = await recorder.wait_for(ContainersCrashed, where=lambda e: e.app == "crashy", timeout=15)

    assert crashed.exit_code == 3 and crashed.restarts == 1 and crashed.type == "web"
    assert "exiting on request" in crashed.log_tail
    assert await eventually(lambda: reachable(endpoint)), "restarted on the same port"
    ps = await bus.request(PS_SUBJECT, PsRequest(app="crashy"), PsReply)
    assert ps.processes[0].restarts == 1


async def test_a_killed_process_restarts(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    healthy = await deploy(bus, recorder, await web_release(store, "killed"))
    [process] = processes_of(data_dir, "killed")
    if not process.cgroup_plan.dirs:
        pytest.skip("finding the app's pid needs its cgroup")

    [app_pid] = [pid for pid in cgroups.pids(process.cgroup_plan) if _comm(pid) == "python3"]

    os.kill(app_pid, signal.SIGKILL)

    crashed = await recorder.wait_for(ContainersCrashed, where=lambda e: e.app == "killed", timeout=15)
    assert crashed.exit_code in (-9, 137)
    assert await eventually(lambda: reachable(healthy.endpoints[0]))


async def test_a_process_over_its_memory_limit_is_killed_and_reported(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    healthy = await deploy(bus, recorder, await web_release(store, "hungry", memory={"web": "64M"}))
    [process] = processes_of(data_dir, "hungry")
    if not process.cgroup_plan.dirs:
        pytest.skip("no writable cgroup memory controller on this machine")

    assert await get(healthy.endpoints[0], "/alloc?mb=8") == (200, "allocated")
    with pytest.raises((OSError, IndexError, ValueError)):
        await get(healthy.endpoints[0], "/alloc?mb=256")

    crashed = await recorder.wait_for(ContainersCrashed, where=lambda e: e.app == "hungry", timeout=15)
    assert "memory limit exceeded" in crashed.log_tail[-1]
    assert await eventually(lambda: reachable(healthy.endpoints[0]))


async def test_an_app_cannot_read_another_apps_files_or_the_platform_data(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    await deploy(bus, recorder, await web_release(store, "victim", env={"SECRET": "s3cr3t"}))
    intruder = await deploy(bus, recorder, await web_release(store, "intruder", sha="feedface"))
    endpoint = intruder.endpoints[0]
    [victim] = processes_of(data_dir, "victim")

    assert (await get(endpoint, "/read?path=/app/Procfile"))[1].startswith("read:web:")
    for path in (
        f"{victim.record.release_dir}/server.py",
        str(victim.dir / "spec.json"),
        str(data_dir / "apps" / "victim.json"),
        str(tmp_path / "store" / "builder" / "home" / "victim:git-1a2b3c4d" / "push" / "slug.tgz"),
        f"/proc/{victim.status().child_pid}/environ",
        "/etc/shadow",
        "/root/.bashrc",
    ):
        _, body = await get(endpoint, f"/read?path={path}")
        assert body.startswith("denied:"), f"{path} was readable: {body[:80]}"
    _, whoami = await get(endpoint, "/whoami")
    assert whoami.startswith("uid=1000 ")
    if os.geteuid() == 0:
        [own] = processes_of(data_dir, "intruder")
        uids = {_uid_of(pid) for pid in cgroups.pids(own.cgroup_plan)}
        assert uids <= {"65534"}, "outside the sandbox the app runs unprivileged"


def _read(directory: str, name: str) -> str:
    return Path(directory, name).read_text().strip()


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _uid_of(pid: int) -> str:
    return Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0]


async def test_restart_replaces_the_processes_without_downtime(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    first = await deploy(bus, recorder, await web_release(store, "again", structure={"web": 2}))
    before = {p.name for p in first.processes}

    await bus.publish(RestartRequested(app="again", type="web"))
    healthy = await recorder.wait_for(
        ContainersHealthy,
        where=lambda e: e.app == "again" and {p.name for p in e.processes} != before,
        timeout=30,
    )

    assert len(healthy.processes) == 2 and not before & {p.name for p in healthy.processes}
    # Workflow's shape: the same release keeps its hash, each fresh process gets a new suffix
    [hash_before] = {name.rsplit("-", 1)[0] for name in before}
    assert {p.name.rsplit("-", 1)[0] for p in healthy.processes} == {hash_before}
    assert all(NAME.match(p.name) for p in healthy.processes), healthy.processes
    for endpoint in healthy.endpoints:
        assert await get(endpoint) == (200, "hello from v2")

    async def only_new() -> bool:
        ps = await bus.request(PS_SUBJECT, PsRequest(app="again"), PsReply)
        return {p.name for p in ps.processes} == {p.name for p in healthy.processes}

    await eventually(only_new)


async def test_a_one_off_run_returns_its_output_and_exit_code(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    state = await web_release(store, "runner", env={"COLOR": "blue"})

    await bus.publish(
        RunRequested(
            app="runner",
            run_id="r1",
            command="echo $DEIS_APP $COLOR $PROFILE_SOURCED; ls /app; exit 7",
            state=state,
        )
    )
    finished = await recorder.wait_for(RunFinished, where=lambda e: e.run_id == "r1", timeout=30)

    assert finished.exit_code == 7
    assert "runner blue yes" in finished.output
    assert "server.py" in finished.output


async def test_a_run_that_outlives_its_timeout_is_killed(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    state = await web_release(store, "sleepy")

    await bus.publish(
        RunRequested(
            app="sleepy", run_id="r2", command="echo started; sleep 60", state=state, timeout_seconds=1
        )
    )
    finished = await recorder.wait_for(RunFinished, where=lambda e: e.run_id == "r2", timeout=30)

    assert finished.exit_code != 0
    assert "started" in finished.output


async def test_process_output_goes_to_the_app_log(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    healthy = await deploy(bus, recorder, await web_release(store, "chatty"))
    await get(healthy.endpoints[0], "/hello-log")

    async def logged() -> list[str]:
        return [line for line in await bus.read_log("chatty") if "GET /hello-log" in line]

    [line] = await eventually(logged)
    time, _, rest = line.partition(" ")
    assert time.endswith("Z") and "T" in time
    assert rest.startswith("chatty[web.1]: request ")
    assert any("chatty[web.1]: listening on" in entry for entry in await bus.read_log("chatty"))


async def test_a_process_whose_supervisor_was_killed_is_replaced(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    first = await deploy(bus, recorder, await web_release(store, "orphan"))
    [process] = processes_of(data_dir, "orphan")
    shim_pid = process.status().shim_pid
    assert shim_pid is not None

    os.kill(shim_pid, signal.SIGKILL)
    replaced = await recorder.wait_for(
        ContainersHealthy, where=lambda e: e.app == "orphan" and e.endpoints != first.endpoints, timeout=30
    )

    assert replaced.generation == first.generation
    assert await get(replaced.endpoints[0]) == (200, "hello from v2")
    assert not await reachable(first.endpoints[0]), "the sandbox ended with its supervisor"
    assert [p.record.name for p in processes_of(data_dir, "orphan")] == [replaced.processes[0].name]


async def test_memory_and_cpu_limits_are_applied_to_the_processes_cgroup(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    state = await web_release(store, "limited", memory={"web": "96M"}, env={}, sha="c0ffee00")
    state = state.model_copy(update={"cpu": {"web": "250m"}})
    await deploy(bus, recorder, state)
    [process] = processes_of(data_dir, "limited")
    plan = process.cgroup_plan
    if not plan.dirs:
        pytest.skip("no writable cgroup controllers on this machine")

    if plan.memory:
        assert _read(plan.memory, "memory.limit_in_bytes") == str(96 * 1024 * 1024)
    if plan.cpu:
        assert _read(plan.cpu, "cpu.cfs_quota_us") == "25000"
    if plan.unified:
        assert _read(plan.unified, "memory.max") == str(96 * 1024 * 1024)
    assert set(cgroups.pids(plan)), "the app's processes are in the cgroup"


async def test_a_process_whose_directory_was_deleted_stops(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    healthy = await deploy(bus, recorder, await web_release(store, "wiped"))
    [process] = processes_of(data_dir, "wiped")

    shutil.rmtree(process.dir)

    async def stopped() -> bool:
        return not await reachable(healthy.endpoints[0])

    await eventually(stopped, timeout=15)

    async def network_released() -> bool:
        return process.record.netns not in netns.owned_by(cgroup_root_name(data_dir))

    await eventually(network_released, timeout=15)


async def test_output_keeps_flowing_to_the_log_when_the_output_file_rotates(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    settings.scheduler.output_rotate_bytes = 2000
    # 80 lines of ~45 bytes: the file rotates once, faster than the forwarder looks
    chatty = "python3 -c 'import time\nfor i in range(80): print(\"line\", i, flush=True)\ntime.sleep(600)'"
    state = await web_release(store, "rotates", procfile={"web": "python3 server.py", "talker": chatty})
    await deploy(bus, recorder, state.model_copy(update={"structure": {"talker": 1}}))

    async def all_lines() -> list[str]:
        lines = [line for line in await bus.read_log("rotates", 1000) if "rotates[talker.1]: line " in line]
        return lines if len(lines) >= 80 else []

    lines = await eventually(all_lines, timeout=30)
    assert [line.rsplit(" ", 1)[1] for line in lines] == [str(i) for i in range(80)]
    [process] = processes_of(data_dir, "rotates")
    assert (process.dir / "output.log.1").exists()
