"""The outbox publisher: sends committed events in order and marks them sent.

Events are rows written in the same transaction as the change they announce. This task claims unsent
rows (``FOR UPDATE SKIP LOCKED``, so replicas share the work), publishes each with its row id as the
event id (the bus de-duplicates on it, so a crash after publishing but before marking only re-sends
what NATS drops as a duplicate), and marks them sent. It wakes on every commit that queued events and
sweeps periodically for rows left by a crashed process.
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import CollectorRegistry, Gauge

from deis_common.errors import BusError
from deis_common.events.base import Envelope
from deis_controller.controller import Controller
from deis_controller.db import DatabaseError
from deis_controller.db import outbox as outbox_db

log = structlog.get_logger(__name__)

BATCH = 100
PRUNE_EVERY = 3600.0
KEEP_SENT = 86400.0


def backlog_gauge(registry: CollectorRegistry) -> Gauge:
    return Gauge("deis_controller_outbox_unsent", "events committed but not yet published", registry=registry)


async def flush(ctl: Controller) -> int:
    """Publish one batch of unsent events; returns how many were sent."""
    async with ctl.db.transaction() as tx:
        rows = await outbox_db.claim_unsent(tx, BATCH)
        for row in rows:
            await ctl.bus.publish_envelope(Envelope.model_validate(row["envelope"]))
        if rows:
            await outbox_db.mark_sent(tx, [r["seq"] for r in rows])
    return len(rows)


async def run(ctl: Controller) -> None:
    backlog = backlog_gauge(ctl.service.registry)
    interval = ctl.settings.outbox_poll_interval
    failures = 0
    pruned = 0.0
    loop = asyncio.get_running_loop()
    while True:
        if loop.time() - pruned > PRUNE_EVERY:
            # sent rows are kept a day for inspection, then dropped
            async with ctl.db.transaction() as tx:
                await outbox_db.prune_sent(tx, KEEP_SENT)
            pruned = loop.time()
        ctl.outbox_wakeup.clear()
        try:
            sent = await flush(ctl)
            failures = 0
        except (BusError, DatabaseError) as e:
            failures += 1
            log.warning("outbox.publish_failed", error=str(e), attempt=failures)
            await asyncio.sleep(min(0.2 * 2**failures, 10.0))
            continue
        if sent == BATCH:
            continue
        async with ctl.db.read() as tx:
            backlog.set(await outbox_db.unsent_count(tx))
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races the wakeup
        try:
            async with asyncio.timeout(interval):
                await ctl.outbox_wakeup.wait()
        except TimeoutError:
            pass
