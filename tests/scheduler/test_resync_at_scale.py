"""The scheduler at scale: it resyncs thousands of apps from the controller's paged snapshot, and a
scheduler whose durables are new starts where the snapshot was taken instead of replaying history.

The controller is real (Postgres, NATS); the scheduler runs the simulated backend, so nothing is started.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from structlog.testing import capture_logs

from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.events.state import AppState
from deis_common.settings import HttpSettings, NatsSettings, StoreSettings
from deis_common.snapshot import snapshot_pages
from deis_common.testing.ports import free_port
from deis_common.testing.recorder import EventRecorder
from deis_controller.db import Database
from deis_scheduler.backends.simulated import SimulatedBackend
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerGroup, SchedulerSettings, SimulatedSettings
from tests.controller.harness import running_controller
from tests.controller.many_apps import seed_apps

APPS = 3000


@asynccontextmanager
async def simulated_scheduler(
    nats_url: str, tmp_path: Path, *, adopt: bool = False
) -> AsyncIterator[tuple[SimulatedBackend, object]]:
    group = SchedulerGroup(backend="simulated", data_dir=tmp_path / "scheduler", routes_timeout=0.5)
    settings = SchedulerSettings(
        nats=NatsSettings(url=nats_url),
        http=HttpSettings(host="127.0.0.1", port=free_port()),
        store=StoreSettings(driver="fs", path=tmp_path / "store"),
        log_json=False,
        grace_period=2,
        scheduler=group,
    )
    backend = SimulatedBackend(SimulatedSettings(delay=0, adopt=adopt))
    service = build(settings, backend=backend)
    async with service.running():
        yield backend, service


async def until(check: object, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await check():  # type: ignore[operator]
            await asyncio.sleep(0.05)


def handled(service: object, handler: str) -> float:
    value = service.registry.get_sample_value(  # type: ignore[attr-defined]
        "deis_events_handled_total", {"handler": f"scheduler-{handler}", "outcome": "ack"}
    )
    return value or 0.0


async def test_the_scheduler_resyncs_a_snapshot_larger_than_a_nats_message(
    pg_dsn: str, nats_url: str, tmp_path: Path
) -> None:
    async with running_controller(pg_dsn, nats_url) as api:
        await api.register("admin")
        async with Database.open(pg_dsn) as db:
            names = await seed_apps(db, owner="admin", count=APPS)
        async with simulated_scheduler(nats_url, tmp_path) as (backend, _):

            async def all_running() -> bool:
                return len(await backend.apps()) == APPS

            await until(all_running)
            assert await backend.apps() == set(names)
            assert [p.release for p in await backend.processes(names[-1])] == ["v1"]


async def test_a_new_scheduler_starts_after_the_snapshot_instead_of_replaying_history(
    pg_dsn: str, nats_url: str, tmp_path: Path, bus: Bus
) -> None:
    async with running_controller(pg_dsn, nats_url) as api:
        await api.register("admin")
        async with Database.open(pg_dsn) as db:
            await seed_apps(db, owner="admin", count=5)
        for n in range(30):  # a week of history the snapshot already accounts for
            state = AppState(app=f"old-{n}", generation=1, version=1, structure={"web": 1})
            await bus.publish(ReleaseCreated(app=f"old-{n}", state=state))
        async with simulated_scheduler(nats_url, tmp_path) as (backend, service):

            async def resynced() -> bool:
                return len(await backend.apps()) == 5

            await until(resynced)
            state = AppState(app="app-000001", generation=2, version=2, structure={"web": 2})
            await bus.publish(ReleaseCreated(app="app-000001", state=state))

            async def deployed() -> bool:
                return len(await backend.processes("app-000001")) == 2

            await until(deployed)
            assert handled(service, "release-created") == 1
            assert not any(app.startswith("old-") for app in await backend.apps())


async def test_a_restarted_scheduler_does_not_announce_endpoints_the_platform_already_has(
    pg_dsn: str, nats_url: str, tmp_path: Path, bus: Bus, recorder: EventRecorder
) -> None:
    async with running_controller(pg_dsn, nats_url) as api:
        await api.register("admin")
        async with Database.open(pg_dsn) as db:
            await seed_apps(db, owner="admin", count=50)
        async with simulated_scheduler(nats_url, tmp_path):

            async def announced() -> bool:
                return len(recorder.of(ContainersHealthy)) == 50

            await until(announced)

        async def recorded() -> bool:  # the controller has every app's endpoints for generation 1
            pages = [page async for page in snapshot_pages(bus)]
            return all(item.endpoints_generation == 1 for page in pages for item in page.apps)

        await until(recorded)
        with capture_logs() as logs:
            async with simulated_scheduler(nats_url, tmp_path, adopt=True):

                async def resynced() -> bool:
                    return any(entry["event"] == "snapshot.applied" for entry in logs)

                await until(resynced)
        assert len(recorder.of(ContainersHealthy)) == 50


async def test_the_seeded_endpoints_are_those_the_simulated_backend_reports(
    pg_dsn: str, nats_url: str, tmp_path: Path, recorder: EventRecorder
) -> None:
    async with running_controller(pg_dsn, nats_url) as api:
        await api.register("admin")
        async with Database.open(pg_dsn) as db:
            await seed_apps(db, owner="admin", count=20, simulated_endpoints=True)
        with capture_logs() as logs:
            async with simulated_scheduler(nats_url, tmp_path, adopt=True):

                async def resynced() -> bool:
                    return any(entry["event"] == "snapshot.applied" for entry in logs)

                await until(resynced)
        assert recorder.of(ContainersHealthy) == []
