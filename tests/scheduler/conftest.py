"""Fixtures of the scheduler tests: a real scheduler on a real NATS, a real fs store, and a stand-in router.

The stand-in router does what router-sync does on the bus: for every ``containers.healthy`` it publishes
``routes.updated`` for that generation (tests may hold it back to observe the ordering).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from deis_common import netns
from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.routes import RoutesUpdated
from deis_common.settings import HttpSettings, NatsSettings, StoreSettings
from deis_common.store import FsStore
from deis_common.testing.ports import free_port
from deis_common.testing.reacting import reacting
from deis_scheduler.backends.kubernetes.client import KubernetesClient, connect
from deis_scheduler.backends.local.launcher import cgroup_root_name
from deis_scheduler.backends.local.process import stop_all
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerGroup, SchedulerSettings
from tests.scheduler.kube_server import KubeApiServer

pytestmark = pytest.mark.sandbox


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "scheduler"


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[FsStore]:
    fs = FsStore(tmp_path / "store")
    yield fs
    await fs.close()


@pytest.fixture
def settings(nats_url: str, tmp_path: Path, data_dir: Path) -> SchedulerSettings:
    return SchedulerSettings(
        nats=NatsSettings(url=nats_url),
        http=HttpSettings(host="127.0.0.1", port=free_port()),
        store=StoreSettings(driver="fs", path=tmp_path / "store"),
        log_json=False,
        grace_period=2,
        scheduler=SchedulerGroup(
            data_dir=data_dir,
            deploy_timeout=15,
            routes_timeout=10,
            drain_delay=0.3,
            stop_grace=2,
            restart_backoff=0.2,
            restart_backoff_max=1,
            resync_interval=1,
        ),
    )


@pytest_asyncio.fixture
async def scheduler(settings: SchedulerSettings, data_dir: Path) -> AsyncIterator[Callable[[], object]]:
    """The scheduler service, running in-process; the app processes are stopped after the test."""
    service = build(settings)
    async with service.running():
        yield service
    await stop_processes(data_dir)


async def stop_processes(data_dir: Path) -> None:
    await stop_all(data_dir / "processes", grace=1)
    # Every network namespace goes with its process.
    assert netns.owned_by(cgroup_root_name(data_dir)) == []


class StandInRouter:
    """Answers every containers.healthy with routes.updated, unless held."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.held = asyncio.Event()
        self.held.set()
        self.routed: list[ContainersHealthy] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def hold(self) -> None:
        self.held.clear()

    def release(self) -> None:
        self.held.set()

    async def on_healthy(self, event: ContainersHealthy) -> None:
        async def answer() -> None:
            await self.held.wait()
            self.routed.append(event)
            await self.bus.publish(
                RoutesUpdated(app=event.app, generation=event.generation, endpoints=event.endpoints)
            )

        task = asyncio.create_task(answer())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest_asyncio.fixture
async def router(bus: Bus) -> AsyncIterator[StandInRouter]:
    stand_in = StandInRouter(bus)
    async with reacting(bus, ContainersHealthy, to=stand_in.on_healthy):
        yield stand_in
    await stand_in.close()


@pytest_asyncio.fixture
async def kube_server() -> AsyncIterator[KubeApiServer]:
    """A Kubernetes API server (the subset the scheduler uses) on a free loopback port."""
    server = KubeApiServer()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def kube(kube_server: KubeApiServer) -> AsyncIterator[KubernetesClient]:
    """The scheduler's own Kubernetes client (kubernetes_asyncio), talking HTTP to ``kube_server``."""
    api = await connect(kube_server.url)
    yield api
    await api.close()
