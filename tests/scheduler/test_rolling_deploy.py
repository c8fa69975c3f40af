"""Rolling deploys: new processes first, old ones after the router moved; failed releases change nothing."""

from __future__ import annotations

import pytest

from deis_common.bus import Bus
from deis_common.events.apps import AppScaled
from deis_common.events.containers import ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import eventually, get, reachable

pytestmark = pytest.mark.sandbox


async def deploy(bus: Bus, recorder: EventRecorder, state: object) -> ContainersHealthy:
    from deis_common.events.state import AppState

    assert isinstance(state, AppState)
    await bus.publish(ReleaseCreated(app=state.app, state=state))
    return await recorder.wait_for(
        ContainersHealthy, where=lambda e: e.app == state.app and e.generation == state.generation, timeout=30
    )


async def test_old_processes_keep_serving_until_the_router_confirms_the_new_generation(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    old = await deploy(bus, recorder, await web_release(store, "roll", version=2))
    router.hold()

    new = await deploy(bus, recorder, await web_release(store, "roll", version=3, env={"GREETING": "hi"}))

    assert new.endpoints != old.endpoints
    assert await get(new.endpoints[0]) == (200, "hi from v3")
    assert await get(old.endpoints[0]) == (200, "hello from v2"), "old stays up while routes are pending"
    ps = await bus.request(PS_SUBJECT, PsRequest(app="roll"), PsReply)
    assert sorted(p.release for p in ps.processes) == ["v2", "v3"]

    router.release()

    async def old_gone() -> bool:
        return not await reachable(old.endpoints[0])

    await eventually(old_gone)
    assert await get(new.endpoints[0]) == (200, "hi from v3")


async def test_a_release_that_keeps_crashing_fails_and_the_previous_one_keeps_serving(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    good = await deploy(bus, recorder, await web_release(store, "flaky", version=2))
    broken = await web_release(
        store, "flaky", version=3, sha="deadbeef", procfile={"web": "echo 'cannot find settings' >&2; exit 2"}
    )

    await bus.publish(ReleaseCreated(app="flaky", state=broken))
    failed = await recorder.wait_for(DeployFailed, where=lambda e: e.app == "flaky", timeout=30)

    assert failed.version == 3 and failed.generation == 3
    assert "crash" in failed.reason
    assert "cannot find settings" in failed.log_tail
    assert await get(good.endpoints[0]) == (200, "hello from v2")
    ps = await bus.request(PS_SUBJECT, PsRequest(app="flaky"), PsReply)
    assert [(p.release, p.state) for p in ps.processes] == [("v2", "up")]
    assert not [e for e in recorder.of(ContainersHealthy) if e.generation == 3]


async def test_a_release_that_never_gets_ready_fails_with_its_last_log_lines(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
) -> None:
    settings.scheduler.deploy_timeout = 3
    good = await deploy(bus, recorder, await web_release(store, "mute", version=2))
    silent = await web_release(
        store, "mute", version=3, sha="0badf00d", procfile={"web": "python3 worker.py"}
    )

    await bus.publish(ReleaseCreated(app="mute", state=silent))
    failed = await recorder.wait_for(DeployFailed, where=lambda e: e.app == "mute", timeout=30)

    assert "did not become ready within 3s" in failed.reason
    assert "worker up" in failed.log_tail
    assert await get(good.endpoints[0]) == (200, "hello from v2")


async def test_a_stale_generation_is_ignored(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    current = await deploy(bus, recorder, await web_release(store, "stale", version=3, generation=5))
    older = await web_release(store, "stale", version=2, generation=4, env={"GREETING": "old"})

    await bus.publish(ReleaseCreated(app="stale", state=older))
    newer = await deploy(
        bus, recorder, current_state := await web_release(store, "stale", version=3, generation=6)
    )

    assert current_state.generation == 6
    assert not [e for e in recorder.of(ContainersHealthy) if e.generation == 4]
    assert newer.endpoints == current.endpoints
    assert await get(newer.endpoints[0]) == (200, "hello from v3")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"structure": {"web": 1, "clock": 1}}, "the Procfile has no 'clock' process type"),
        ({"memory": {"web": "lots"}}, "memory limit 'lots' must look like 512M"),
        ({"cpu": {"web": "0m"}}, "cpu limit '0m' must be more than 0"),
        ("missing-slug", "missing from the store (builder/home/bad:git-"),
    ],
    ids=["unknown-type", "bad-memory", "bad-cpu", "missing-slug"],
)
async def test_a_release_that_cannot_start_fails_with_a_clear_reason(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    change: dict[str, dict[str, object]] | str,
    reason: str,
) -> None:
    state = await web_release(store, "bad")
    if change == "missing-slug":
        assert state.build is not None
        await store.delete("builder", state.build.location)
    else:
        assert isinstance(change, dict)
        state = state.model_copy(update=change)

    await bus.publish(ReleaseCreated(app="bad", state=state))
    failed = await recorder.wait_for(DeployFailed, where=lambda e: e.app == "bad", timeout=30)

    assert reason in failed.reason


async def test_a_scale_during_a_pending_retirement_plans_only_with_the_new_release(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    old = await deploy(bus, recorder, await web_release(store, "busy", version=2))
    router.hold()
    v3 = await web_release(store, "busy", version=3, env={"GREETING": "hey"})
    new = await deploy(bus, recorder, v3)

    scaled_state = v3.model_copy(update={"generation": 4, "structure": {"web": 2}})
    await bus.publish(AppScaled(app="busy", generation=4, structure={"web": 2}, state=scaled_state))
    scaled = await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 4, timeout=30)

    assert new.endpoints[0] in scaled.endpoints and old.endpoints[0] not in scaled.endpoints
    assert [p.release for p in scaled.processes] == ["v3", "v3"]
    assert await get(old.endpoints[0]) == (200, "hello from v2"), "still waiting for the router"
    router.release()

    async def only_v3() -> bool:
        ps = await bus.request(PS_SUBJECT, PsRequest(app="busy"), PsReply)
        return sorted(p.release for p in ps.processes) == ["v3", "v3"]

    await eventually(only_v3)
    for endpoint in scaled.endpoints:
        assert await get(endpoint) == (200, "hey from v3")
