"""router-sync at scale: it serves every app of a snapshot larger than a NATS message, and a new replica
(durables of its own) takes the routes and healthy endpoints from the snapshot instead of replaying history.

The controller is real (Postgres, NATS) and so is nginx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.registry import stream_name
from deis_common.events.routes import RoutesUpdated
from deis_common.snapshot import snapshot_pages
from deis_common.testing.recorder import EventRecorder
from deis_controller.db import Database
from deis_router_sync import build
from tests.controller.harness import running_controller
from tests.controller.many_apps import seed_apps
from tests.router_sync.router_harness import RunningRouter, backend, publish_and_wait, router_settings

APPS = 3000


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    async def loop() -> None:
        while not await check():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(loop(), timeout)


async def status(router: RunningRouter, host: str) -> int:
    return (await router.get(host)).status


async def test_router_sync_serves_every_app_of_a_snapshot_larger_than_a_nats_message(
    pg_dsn: str, nats_url: str, tmp_path: Path, bus: Bus
) -> None:
    async with running_controller(pg_dsn, nats_url) as api:
        await api.register("admin")
        async with Database.open(pg_dsn) as db:
            names = await seed_apps(db, owner="admin", count=APPS)
        size = sum([len(page.model_dump_json()) async for page in snapshot_pages(bus)])
        assert size > 1024 * 1024
        settings = router_settings(nats_url, tmp_path / "router", snapshot_timeout=10.0)
        async with build(settings).running() as service:
            router = RunningRouter(service, settings)
            first = f"api.{names[0]}.customer-domain.example.com"
            last = f"www.{names[-1]}.customer-domain.example.com"

            async def served() -> bool:
                # known, and their whitelist keeps us out; both at once, as an old nginx worker may still
                # answer a request or two with the config before
                return await status(router, first) == 403 and await status(router, last) == 403

            await eventually(served)
            assert await status(router, "www.app-999999.customer-domain.example.com") == 404


async def test_a_new_router_replica_starts_from_the_snapshot_without_replaying_history(
    pg_dsn: str, nats_url: str, tmp_path: Path, bus: Bus, recorder: EventRecorder
) -> None:
    async with running_controller(pg_dsn, nats_url) as api, backend("web") as endpoint:
        admin = await api.register("admin")
        assert (await api.call("POST", "/v2/apps/", admin, json={"id": "demo"})).status == 201
        domain = {"domain": "demo.example"}
        assert (await api.call("POST", "/v2/apps/demo/domains/", admin, json=domain)).status == 201
        old = 20
        for generation in range(1, old + 1):  # history: the last one names the endpoint that serves
            where = endpoint if generation == old else f"127.0.0.1:{1000 + generation}"
            await bus.publish(
                ContainersHealthy(app="demo", generation=generation, version=1, endpoints=[where])
            )

        async def recorded() -> bool:  # the controller has taken in every report
            pages = [page async for page in snapshot_pages(bus)]
            return pages[0].positions.get(stream_name(ContainersHealthy.family), 0) >= old

        await eventually(recorded)
        settings = router_settings(nats_url, tmp_path / "router", instance="fresh")
        async with build(settings).running() as service:
            router = RunningRouter(service, settings)

            async def serving() -> bool:
                return (await router.get("demo.example")).backend == "web"

            await eventually(serving)
            handled = 'deis_events_handled_total{handler="router-sync-fresh-%s",outcome="ack"}'
            assert await router.metric(handled % "containers-healthy") == 0
            assert await router.metric(handled % "domain-added") == 0

            new = ContainersHealthy(app="demo", generation=old + 1, version=2, endpoints=[endpoint])
            routed = await publish_and_wait(bus, recorder, new, RoutesUpdated)
            assert routed.generation == old + 1

            async def acknowledged() -> bool:  # the handler acks once it has published its answer
                return await router.metric(handled % "containers-healthy") == 1

            await eventually(acknowledged)
