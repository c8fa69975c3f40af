"""App output and crashes on Kubernetes reach the bus as on one machine: ``logs.<app>`` lines (what ``deis
logs`` reads through the controller's ``bus.read_log``) and ``containers.crashed`` events, from the real
scheduler on real NATS, following pods of the test API server over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from deis_common.bus import Bus
from deis_common.events.containers import ContainersCrashed, ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.service import Service
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import eventually
from tests.scheduler.kube_server import KubeApiServer
from tests.scheduler.test_kubernetes_backend import buildpack_state

LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) shop\[(web|worker)\.([a-z0-9-]+)\]: (.*)$")


@pytest.fixture
def kube_settings(settings: SchedulerSettings, kube_server: KubeApiServer) -> SchedulerSettings:
    settings.scheduler.backend = "kubernetes"
    settings.scheduler.kubernetes.poll_interval = 0.05
    settings.scheduler.kubernetes.api_server = kube_server.url
    return settings


@pytest_asyncio.fixture
async def deployed(
    kube_settings: SchedulerSettings,
    kube_server: KubeApiServer,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
) -> AsyncIterator[Service]:
    """The scheduler, with shop v3 (one web, one worker) running; each container printed 'booting'."""
    kube_server.startup_output = ["booting"]
    service = build(kube_settings)
    async with service.running():
        state = buildpack_state(structure={"web": 1, "worker": 1}, autoscale={})
        await bus.publish(ReleaseCreated(app="shop", state=state))
        await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 3, timeout=15)
        yield service


def web_pod(kube_server: KubeApiServer) -> str:
    return str(kube_server.list("pods", "shop", type="web")[0]["metadata"]["name"])


async def log_lines(bus: Bus, count: int) -> list[tuple[str, str, str]]:
    """(type, pod suffix, text) of the app's log once it has ``count`` lines (and no more)."""

    async def enough() -> list[str]:
        lines = await bus.read_log("shop", 1000)
        return lines if len(lines) >= count else []

    lines = await eventually(enough, timeout=10)
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    return [(m[2], m[3], m[4]) for m in parsed if m]


async def test_pod_output_reaches_the_apps_log_once_across_reconnects(
    deployed: Service, kube_server: KubeApiServer, bus: Bus
) -> None:
    web = web_pod(kube_server)
    suffix = web.removeprefix("shop-web-")
    assert sorted(await log_lines(bus, 2)) == [
        ("web", suffix, "booting"),
        (
            "worker",
            str(kube_server.list("pods", "shop", type="worker")[0]["metadata"]["name"])[12:],
            "booting",
        ),
    ]

    await kube_server.write_log("shop", web, "GET / 200")
    await log_lines(bus, 3)
    # the API server drops every watch and log stream: the scheduler resumes both, repeating nothing
    await kube_server.drop_watches()
    await kube_server.write_log("shop", web, "GET /about 200")
    await kube_server.write_log("shop", web, "GET /about 200")  # the same text twice is two lines

    lines = await log_lines(bus, 5)
    web_lines = [text for kind, _, text in lines if kind == "web"]
    assert web_lines == ["booting", "GET / 200", "GET /about 200", "GET /about 200"]
    assert len(await bus.read_log("shop", 1000)) == 5


async def test_a_crashing_container_is_reported_and_its_next_output_follows(
    deployed: Service, kube_server: KubeApiServer, bus: Bus, recorder: EventRecorder
) -> None:
    web = web_pod(kube_server)
    await kube_server.write_log("shop", web, "KeyError: 'DATABASE_URL'")
    await log_lines(bus, 3)

    await kube_server.crash("shop", web, 3)
    crashed = await recorder.wait_for(ContainersCrashed, where=lambda e: e.app == "shop", timeout=10)
    await kube_server.write_log("shop", web, "booting again")

    assert (crashed.process, crashed.type, crashed.exit_code, crashed.restarts) == (web, "web", 3, 1)
    assert crashed.log_tail == ["booting", "KeyError: 'DATABASE_URL'", "Process exited with status 3"]
    lines = [text for kind, _, text in await log_lines(bus, 5) if kind == "web"]
    assert lines == ["booting", "KeyError: 'DATABASE_URL'", "Process exited with status 3", "booting again"]

    await kube_server.crash("shop", web, 137, reason="OOMKilled")
    oom = await recorder.wait_for(ContainersCrashed, where=lambda e: e.restarts == 2, timeout=10)
    assert oom.log_tail[-1] == "Process exited with status 137 (killed: memory limit exceeded)"
    assert len(recorder.of(ContainersCrashed)) == 2


async def test_a_restarted_scheduler_follows_running_pods_without_repeating_their_past(
    kube_settings: SchedulerSettings,
    kube_server: KubeApiServer,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
) -> None:
    kube_server.startup_output = ["booting"]
    async with build(kube_settings).running():
        state = buildpack_state(structure={"web": 1}, autoscale={})
        await bus.publish(ReleaseCreated(app="shop", state=state))
        await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 3, timeout=15)
        web = web_pod(kube_server)
        await kube_server.crash("shop", web, 1)
        await recorder.wait_for(ContainersCrashed, timeout=10)
        await log_lines(bus, 2)
    await kube_server.write_log("shop", web, "while the scheduler is away")

    followed = kube_server.count("GET", f"/pods/{web}/log")
    async with build(kube_settings).running():

        async def following_again() -> bool:
            return kube_server.count("GET", f"/pods/{web}/log") > followed

        await eventually(following_again)
        await kube_server.write_log("shop", web, "still serving")
        lines = [text for kind, _, text in await log_lines(bus, 3) if kind == "web"]

    assert lines == ["booting", "Process exited with status 1", "still serving"]
    assert len(recorder.of(ContainersCrashed)) == 1
