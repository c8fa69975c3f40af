"""The outbox: an event committed with its change survives a crash before it was published."""

from __future__ import annotations

import asyncio
import contextlib

from deis_common.events.apps import AppCreated
from deis_common.testing.recorder import EventRecorder
from deis_controller.db import Database
from deis_controller.db import outbox as outbox_db
from tests.controller.harness import running_controller


async def stop_publisher() -> None:
    """What a crash right after commit looks like: nothing publishes the outbox any more."""
    (task,) = [t for t in asyncio.all_tasks() if t.get_name() == "controller:outbox"]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_an_event_committed_before_a_crash_is_published_after_restart(
    pg_dsn: str, nats_url: str, recorder: EventRecorder
) -> None:
    async with running_controller(pg_dsn, nats_url) as first:
        token = await first.register("alice")
        await stop_publisher()
        r = await first.call("POST", "/v2/apps/", token, json={"id": "crashy"})
        assert r.status == 201
    async with Database.open(pg_dsn) as db, db.read() as tx:
        assert await outbox_db.unsent_count(tx) > 0
    assert not [e for e in recorder.of(AppCreated) if e.app == "crashy"]

    async with running_controller(pg_dsn, nats_url):
        created = await recorder.wait_for(AppCreated, where=lambda e: e.app == "crashy")
    assert created.owner == "alice"


async def test_the_event_id_is_the_outbox_row_id(pg_dsn: str, nats_url: str, recorder: EventRecorder) -> None:
    async with running_controller(pg_dsn, nats_url) as api:
        token = await api.register("alice")
        await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
        await recorder.wait_for(AppCreated, where=lambda e: e.app == "demo")
    (envelope,) = [e for e in recorder.envelopes if e.type == AppCreated.subject]
    async with Database.open(pg_dsn) as db, db.read() as tx:
        ids = {str(r["id"]) for r in await tx.rows("SELECT id FROM outbox")}
    assert envelope.id in ids
