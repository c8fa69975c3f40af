"""Deploying and scaling releases on the local backend: real sandboxes, real NATS, a real slug."""

from __future__ import annotations

import pytest

from deis_common.bus import Bus
from deis_common.events.apps import AppScaled
from deis_common.events.containers import ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import eventually, get, reachable

pytestmark = pytest.mark.sandbox


async def test_a_release_of_a_web_app_becomes_reachable_on_its_port(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    state = await web_release(store, "hello", env={"GREETING": "howdy"})
    await bus.publish(ReleaseCreated(app="hello", state=state))

    healthy = await recorder.wait_for(ContainersHealthy, where=lambda e: e.app == "hello", timeout=30)

    assert healthy.generation == 2 and healthy.version == 2
    assert len(healthy.endpoints) == 1
    assert [(p.type, p.state, p.release) for p in healthy.processes] == [("web", "up", "v2")]
    assert await get(healthy.endpoints[0]) == (200, "howdy from v2")


async def test_deploys_are_counted_and_timed_in_the_metrics(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
) -> None:
    state = await web_release(store, "counted")
    await bus.publish(ReleaseCreated(app="counted", state=state))
    await recorder.wait_for(ContainersHealthy, where=lambda e: e.app == "counted", timeout=30)

    _, metrics = await get(f"127.0.0.1:{settings.http.port}", "/metrics")

    assert 'deis_scheduler_desired_states_total{outcome="healthy"} 1.0' in metrics
    assert 'deis_scheduler_deploy_seconds_count{outcome="healthy"} 1.0' in metrics


async def test_scaling_web_from_one_to_three_to_zero_runs_that_many_processes(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    state = await web_release(store, "scaly")
    await bus.publish(ReleaseCreated(app="scaly", state=state))
    first = await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 2, timeout=30)

    three = state.model_copy(update={"generation": 3, "structure": {"web": 3}})
    await bus.publish(AppScaled(app="scaly", generation=3, structure={"web": 3}, state=three))
    scaled_up = await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 3, timeout=30)

    assert len(scaled_up.endpoints) == 3
    assert first.endpoints[0] in scaled_up.endpoints, "the running process keeps serving"
    for endpoint in scaled_up.endpoints:
        assert await get(endpoint) == (200, "hello from v2")
    ps = await bus.request(PS_SUBJECT, PsRequest(app="scaly"), PsReply)
    assert sorted(p.state for p in ps.processes) == ["up", "up", "up"]

    zero = state.model_copy(update={"generation": 4, "structure": {"web": 0}})
    await bus.publish(AppScaled(app="scaly", generation=4, structure={"web": 0}, state=zero))
    scaled_down = await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 4, timeout=30)

    assert scaled_down.endpoints == [] and scaled_down.processes == []

    async def nothing_left() -> bool:
        return (await bus.request(PS_SUBJECT, PsRequest(app="scaly"), PsReply)).processes == []

    await eventually(nothing_left)
    for endpoint in scaled_up.endpoints:
        assert not await reachable(endpoint)
