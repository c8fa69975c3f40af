"""The all-apps snapshot travels in pages, however large the platform, with the stream positions it covers."""

from __future__ import annotations

import asyncio

from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_common.events.registry import stream_name
from deis_common.snapshot import snapshot_pages
from deis_controller.db import Database
from tests.controller.harness import RunningController
from tests.controller.many_apps import seed_apps

APPS = 3000


async def test_a_snapshot_larger_than_a_nats_message_arrives_in_pages(
    api: RunningController, admin: str, bus: Bus, pg_dsn: str
) -> None:
    async with Database.open(pg_dsn) as db:
        names = await seed_apps(db, owner="admin", count=APPS)
    walked: list[str] = []
    sizes: list[int] = []
    pages: list[Snapshot] = []
    async for page in snapshot_pages(bus, page_size=500):
        pages.append(page)
        walked += [item.app for item in page.apps]
        sizes.append(len(page.model_dump_json()))
    assert walked == names
    assert sum(sizes) > 1024 * 1024, "the snapshot must not fit one NATS message for this test to mean much"
    assert max(sizes) < bus.max_payload
    first = pages[0]
    assert first.apps[0].state is not None and len(first.apps[0].state.env) == 20
    assert first.apps[0].domains == sorted(first.apps[0].domains) and len(first.apps[0].domains) == 2
    assert {"DEIS_APPS", "DEIS_RELEASES", "DEIS_DOMAINS", "DEIS_CERTS"} <= first.positions.keys()
    assert all(not page.positions for page in pages[1:])


async def test_apps_with_large_config_come_in_pages_cut_short_under_the_payload_limit(
    api: RunningController, admin: str, bus: Bus, pg_dsn: str
) -> None:
    async with Database.open(pg_dsn) as db:
        names = await seed_apps(db, owner="admin", count=200, env_vars=300)
    pages = [page async for page in snapshot_pages(bus, page_size=500)]
    assert [item.app for page in pages for item in page.apps] == names
    assert len(pages) > 1 and all(len(page.apps) < 200 for page in pages)
    assert all(len(page.model_dump_json()) < bus.max_payload for page in pages)


async def test_the_first_page_covers_the_healthy_endpoints_the_controller_recorded(
    api: RunningController, admin: str, bus: Bus
) -> None:
    assert (await api.call("POST", "/v2/apps/", admin, json={"id": "demo"})).status == 201
    event = ContainersHealthy(app="demo", generation=4, version=2, endpoints=["10.0.0.7:5000"])
    stream = stream_name(ContainersHealthy.family)

    async def first_page(covering: int) -> Snapshot:
        # the controller acknowledges the report once it is recorded; the position follows
        while True:
            page = await bus.request(SNAPSHOT_SUBJECT, SnapshotRequest(limit=10), Snapshot, timeout=5)
            if page.positions.get(stream, 0) >= covering:
                return page
            await asyncio.sleep(0.05)

    await bus.publish(event)
    page = await asyncio.wait_for(first_page(1), timeout=10)
    assert (page.apps[0].endpoints, page.apps[0].endpoints_generation) == (["10.0.0.7:5000"], 4)
    # an older generation reported late changes nothing
    await bus.publish(ContainersHealthy(app="demo", generation=3, version=1, endpoints=["10.0.0.9:1"]))
    page = await asyncio.wait_for(first_page(2), timeout=10)
    assert (page.apps[0].endpoints, page.apps[0].endpoints_generation) == (["10.0.0.7:5000"], 4)


async def test_a_routing_only_snapshot_carries_no_config_values(
    api: RunningController, admin: str, bus: Bus, pg_dsn: str
) -> None:
    async with Database.open(pg_dsn) as db:
        names = await seed_apps(db, owner="admin", count=1200)
    pages = [page async for page in snapshot_pages(bus, page_size=1000, state=False)]
    assert [item.app for page in pages for item in page.apps] == names
    assert all(item.state is None and len(item.domains) == 2 for page in pages for item in page.apps)
    assert len(pages) == 2 and "DEIS_DOMAINS" in pages[0].positions
