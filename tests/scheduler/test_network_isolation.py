"""Every process, one-off run and exec probe has a network of its own (ARCHITECTURE §6, §11).

From inside an app nothing of the host is reachable: not its loopback (NATS, the services), not its own
addresses, not another app's process; the outside world is. The router (here: the test, on the host)
reaches each process at its own address, on Workflow's port.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from deis_common.bus import Bus
from deis_common.events.apps import RunRequested
from deis_common.events.containers import ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.events.runs import RunFinished
from deis_common.store import FsStore
from deis_common.testing import reach
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import get
from tests.scheduler.test_image_release import image_release
from tests.scheduler.test_image_release import rootfs as rootfs  # the session fixture
from tests.scheduler.test_rolling_deploy import deploy

pytestmark = pytest.mark.sandbox


@pytest_asyncio.fixture
async def host_listener() -> AsyncIterator[int]:
    async with reach.host_listener() as port:
        yield port


def forbidden(settings: SchedulerSettings, listener: int, other: str) -> list[str]:
    nats = urllib.parse.urlparse(settings.nats.url)
    return [
        f"{nats.hostname}:{nats.port}",
        f"127.0.0.1:{settings.http.port}",  # the scheduler's health and metrics
        f"127.0.0.1:{listener}",
        *(f"{address}:{listener}" for address in reach.host_addresses(loopback=False)),
        other,  # another app's process, around the router
    ]


async def test_processes_get_addresses_of_their_own_and_workflows_port(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    healthy = await deploy(bus, recorder, await web_release(store, "pair", structure={"web": 2}))

    addresses = {endpoint.rsplit(":", 1)[0] for endpoint in healthy.endpoints}
    assert len(addresses) == 2 and "127.0.0.1" not in addresses
    assert {endpoint.rsplit(":", 1)[1] for endpoint in healthy.endpoints} == {"5000"}
    for endpoint in healthy.endpoints:
        assert await get(endpoint) == (200, "hello from v2")


async def test_an_app_reaches_the_outside_world_but_not_the_platform_nor_other_apps(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    host_listener: int,
) -> None:
    alpha = await deploy(bus, recorder, await web_release(store, "alpha"))
    beta = await deploy(bus, recorder, await web_release(store, "beta"))
    [alpha_web], [beta_web] = alpha.endpoints, beta.endpoints
    targets = forbidden(settings, host_listener, beta_web)

    # From its web process...
    for target in targets:
        host, port = target.rsplit(":", 1)
        status, body = await get(alpha_web, f"/connect?host={host}&port={port}")
        assert (status, body) != (200, "connected"), f"alpha's web process reached {target}"
        assert body.startswith("failed:"), body

    # ...and from a one-off run, which can still reach a package registry.
    state = await web_release(store, "alpha")
    command = "python3 probe.py " + " ".join([*targets, "pypi.org:443"])
    await bus.publish(RunRequested(app="alpha", run_id="probe", command=command, state=state))
    finished = await recorder.wait_for(RunFinished, where=lambda e: e.run_id == "probe", timeout=60)
    results = reach.verdicts(finished.output)
    assert results.pop("pypi.org:443") == "connected", finished.output
    assert results == {t: results[t] for t in targets} and "connected" not in results.values(), results

    # The router's side still works: both apps answer at their own addresses.
    assert await get(beta_web) == (200, "hello from v2")
    assert await get(alpha_web) == (200, "hello from v2")


async def test_an_image_keeps_its_exposed_port_unprivileged_and_scaled(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    rootfs: Path,
) -> None:
    # Like Workflow's example-dockerfile-http: the server listens on :80 whatever PORT says.
    base = await image_release(store, rootfs)
    assert base.build is not None and base.build.image is not None
    image = base.build.image.model_copy(update={"exposed_ports": [80]})
    build = base.build.model_copy(update={"image": image, "procfile": {"cmd": "-m http.server 80"}})
    state = base.model_copy(update={"build": build, "structure": {"cmd": 3}})

    await bus.publish(ReleaseCreated(app=state.app, state=state))
    healthy = await recorder.wait_for(ContainersHealthy, where=lambda e: e.app == "pulled", timeout=30)

    assert len(healthy.endpoints) == 3
    for endpoint in healthy.endpoints:
        assert endpoint.endswith(":80")
        status, _ = await get(endpoint)
        assert status == 200
