"""``deis autoscale:set`` on one machine: a real controller, a real scheduler and sandboxed processes that
burn CPU in their own cgroups; the autoscaler's recommendations come back as scales the controller owns.

The worker requests 100m of CPU and is capped there by its cgroup, so a busy loop sits near 100 % of its
request even on a crowded machine (it needs only a tenth of a core), twice the 50 % target; idle it is near
0 %. Timeouts are generous: the margins are in the utilization, not in the timing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from deis_common.events.apps import AppScaled
from deis_common.events.containers import ContainersAutoscaled
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.settings import SchedulerSettings
from tests.controller.harness import RunningController, running_controller
from tests.scheduler.apps import slug_bytes

SYNC_PERIOD = 1.0
STABILIZATION = 10.0

BURN = """
import os, time
print("burner up", flush=True)
if os.environ.get("BURN") == "1":
    while True:
        pass
while True:
    time.sleep(1)
"""


@pytest.fixture
def settings(settings: SchedulerSettings) -> SchedulerSettings:
    group = settings.scheduler.model_copy(
        update={
            "autoscale_sync_period": SYNC_PERIOD,
            "autoscale_downscale_stabilization": STABILIZATION,
            "deploy_timeout": 60,
        }
    )
    return settings.model_copy(update={"scheduler": group})


@pytest_asyncio.fixture
async def api(pg_dsn: str, nats_url: str) -> AsyncIterator[RunningController]:
    async with running_controller(pg_dsn, nats_url) as ctl:
        yield ctl


async def call(api: RunningController, token: str, method: str, path: str, json: Any = None) -> Any:
    r = await api.call(method, path, token, json=json)
    assert r.status < 300, (method, path, r.status, r.text)
    return r.json


async def structure(api: RunningController, token: str) -> dict[str, int]:
    app = await call(api, token, "GET", "/v2/apps/burner/")
    return dict(app["structure"])


async def workers_up(api: RunningController, token: str) -> int:
    pods = await call(api, token, "GET", "/v2/apps/burner/pods/worker/")
    return sum(1 for p in pods["results"] if p["state"] == "up")


async def until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


async def test_a_busy_type_scales_up_to_max_and_back_down_after_the_stabilization_window(
    api: RunningController,
    store: FsStore,
    scheduler: object,
    router: object,
    recorder: EventRecorder,
) -> None:
    token = await api.register("alice")
    await call(api, token, "POST", "/v2/apps/", {"id": "burner"})
    key = "home/burner:git-1a2b3c4d/push/slug.tgz"
    await store.put("builder", key, slug_bytes({"burn.py": BURN, "Procfile": "worker: python3 burn.py\n"}))
    build = {
        "receive_user": "alice",
        "receive_repo": "burner",
        "image": key,
        "sha": "1a2b3c4d",
        "procfile": {"worker": "python3 burn.py"},
    }
    assert (await api.hook("POST", "/v2/hooks/build/", json=build)).status == 200
    await call(
        api, token, "POST", "/v2/apps/burner/config/", {"values": {"BURN": "1"}, "cpu": {"worker": "100m"}}
    )
    await call(api, token, "POST", "/v2/apps/burner/scale/", {"worker": 1})
    autoscale = {"worker": {"min": 1, "max": 3, "cpu_percent": 50}}
    settings = await call(api, token, "POST", "/v2/apps/burner/settings/", {"autoscale": autoscale})
    assert settings["autoscale"] == autoscale  # what `deis autoscale:list` shows

    # Busy: one process at ~100 % of its request wants 2, two want 4 -- but max is 3.
    await until(lambda: _equals(structure(api, token), {"worker": 3}), 180, "the scale-up to 3")
    await until(lambda: _at_least(workers_up(api, token), 3), 120, "3 workers up in deis ps")
    first = next(e for e in recorder.of(ContainersAutoscaled) if e.app == "burner")
    assert (first.current, first.target_percent) == (1, 50)
    assert first.cpu_percent > 55, first  # well beyond the target and its tolerance
    await asyncio.sleep(4 * SYNC_PERIOD)  # more busy syncs: they still stop at max
    assert await structure(api, token) == {"worker": 3}

    # Idle: a new release whose processes sleep; the count comes down only after the window.
    idle_at = time.monotonic()
    await call(api, token, "POST", "/v2/apps/burner/config/", {"values": {"BURN": "0"}})
    await until(lambda: _equals(structure(api, token), {"worker": 1}), 180, "the scale-down to 1")
    # the window counts from the last busy measurement, which may have come up to a sync before the change;
    # without it the count would drop a few syncs after the idle processes are up
    assert time.monotonic() - idle_at >= STABILIZATION - 2 * SYNC_PERIOD
    await until(lambda: _equals(workers_up(api, token), 1), 120, "1 worker in deis ps")

    scaled = [e for e in recorder.of(AppScaled) if e.app == "burner"]
    assert max(e.structure.get("worker", 0) for e in scaled) == 3
    assert all(e.replicas <= 3 for e in recorder.of(ContainersAutoscaled))
    logs = await api.call("GET", "/v2/apps/burner/logs/", token)
    assert "autoscaler scaled pods worker=3 (CPU " in logs.text, logs.text


async def _equals(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


async def _at_least(value: Any, expected: int) -> bool:
    return bool(await value >= expected)
