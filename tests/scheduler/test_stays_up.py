"""A release must answer HTTP and then stay up for a short window before it replaces the running one.

The default readiness of a routable process is an HTTP answer, whatever its status, from a process that is
still alive; after that, the new processes must stay up for the app's window (``DEIS_MIN_READY_SECONDS``,
0.25 s by default) before the previous release's processes are retired.
"""

from __future__ import annotations

import time

import pytest

from deis_common.bus import Bus
from deis_common.events.deploys import DeployFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import get
from tests.scheduler.test_rolling_deploy import deploy

pytestmark = pytest.mark.sandbox


async def test_a_server_that_binds_its_port_and_dies_never_replaces_the_running_release(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    good = await deploy(bus, recorder, await web_release(store, "gunny", version=2))
    broken = await web_release(
        store, "gunny", version=3, sha="0badf00d", procfile={"web": "python3 bind_then_die.py"}
    )

    await bus.publish(ReleaseCreated(app="gunny", state=broken))
    failed = await recorder.wait_for(DeployFailed, where=lambda e: e.app == "gunny", timeout=60)

    assert "web.1 of v3 keeps crashing" in failed.reason
    assert "Worker failed to boot." in failed.log_tail
    assert await get(good.endpoints[0]) == (200, "hello from v2")
    assert router.routed[-1].generation == 2, "the router never moved to the broken release"


async def test_a_server_that_answers_then_crashes_inside_the_window_fails_the_deploy(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    good = await deploy(bus, recorder, await web_release(store, "flash", version=2))
    brief = await web_release(
        store,
        "flash",
        version=3,
        sha="0badf00d",
        procfile={"web": "python3 answer_then_die.py"},
        env={"LIFETIME": "0.3", "DEIS_MIN_READY_SECONDS": "2"},
    )

    await bus.publish(ReleaseCreated(app="flash", state=brief))
    failed = await recorder.wait_for(DeployFailed, where=lambda e: e.app == "flash", timeout=60)

    assert "web.1 of v3 crashed within 2s of becoming ready" in failed.reason
    assert "crashing now" in failed.log_tail
    assert await get(good.endpoints[0]) == (200, "hello from v2")
    assert router.routed[-1].generation == 2


async def test_any_http_status_is_ready_and_the_window_is_waited_once(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
) -> None:
    # An app whose front page fails still answers: it is up (as for the router), only not well.
    state = await web_release(
        store,
        "errs",
        procfile={"web": "python3 answer_then_die.py"},
        env={"STATUS": "500", "DEIS_MIN_READY_SECONDS": "1"},
    )
    started = time.monotonic()
    healthy = await deploy(bus, recorder, state)
    took = time.monotonic() - started

    assert await get(healthy.endpoints[0]) == (500, "ok")
    assert took >= 1.0, "the new process had to stay up for the app's window first"
