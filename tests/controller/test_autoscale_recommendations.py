"""The local autoscaler's recommendations (``containers.autoscaled``) become scales the controller owns, only
while they still hold."""

from __future__ import annotations

from deis_common.bus import Bus
from deis_common.events.apps import AppScaled
from deis_common.events.containers import ContainersAutoscaled
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import RunningController

AUTOSCALE = {"worker": {"min": 1, "max": 3, "cpu_percent": 50}}


def recommend(current: int, replicas: int, ptype: str = "worker") -> ContainersAutoscaled:
    return ContainersAutoscaled(
        app="demo", type=ptype, current=current, replicas=replicas, cpu_percent=97, target_percent=50
    )


async def worker_app(api: RunningController, token: str) -> None:
    await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
    build = {"image": "ex/img", "procfile": {"web": "./web", "worker": "./work"}}
    assert (await api.call("POST", "/v2/apps/demo/builds/", token, json=build)).status == 201
    assert (await api.call("POST", "/v2/apps/demo/scale/", token, json={"worker": 1})).status == 204
    r = await api.call("POST", "/v2/apps/demo/settings/", token, json={"autoscale": AUTOSCALE})
    assert r.status == 201, r.text


async def structure(api: RunningController, token: str) -> dict[str, int]:
    return dict((await api.call("GET", "/v2/apps/demo/", token)).json["structure"])


async def test_a_recommendation_scales_the_type_like_ps_scale(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    await worker_app(api, alice)

    await bus.publish(recommend(current=1, replicas=2))

    scaled = await recorder.wait_for(AppScaled, where=lambda e: e.structure.get("worker") == 2, timeout=10)
    assert scaled.state.structure == scaled.structure
    assert scaled.state.autoscale == AUTOSCALE
    assert (await structure(api, alice))["worker"] == 2


async def test_stale_and_out_of_range_recommendations(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    await worker_app(api, alice)

    # measured when 5 ran (someone scaled since): ignored; then one beyond max is held to max
    await bus.publish(recommend(current=5, replicas=2))
    await bus.publish(recommend(current=1, replicas=9))
    await recorder.wait_for(AppScaled, where=lambda e: e.structure.get("worker") == 3, timeout=10)
    assert [e.structure["worker"] for e in recorder.of(AppScaled) if "worker" in e.structure][-1] == 3

    # the type no longer autoscales: recommendations for it are dropped
    r = await api.call("POST", "/v2/apps/demo/settings/", alice, json={"autoscale": {"worker": None}})
    assert r.status == 201, r.text
    await bus.publish(recommend(current=3, replicas=1))
    await bus.publish(recommend(current=1, replicas=2, ptype="web"))  # web never autoscaled
    # a marker that is applied shows the two before it were consumed and ignored
    await api.call("POST", "/v2/apps/demo/settings/", alice, json={"autoscale": AUTOSCALE})
    await bus.publish(recommend(current=3, replicas=2))
    await recorder.wait_for(AppScaled, where=lambda e: e.structure.get("worker") == 2, timeout=10)
    assert (await structure(api, alice))["worker"] == 2
    assert all(e.structure.get("web", 0) <= 1 for e in recorder.of(AppScaled))
