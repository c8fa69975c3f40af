"""Runs a router's handlers as durable JetStream pull consumers, applying the ack policy.

Each handler becomes one durable ``<service>-<handler>`` bound to its event's stream and subject; all
replicas of a service share it, so work spreads across them. A runner fetches only as many messages as
it has free slots (``concurrency``), keeps long handlers alive with progress acks, and on stop closes
intake first, lets in-flight handlers finish within the grace period, then cancels the rest (their
messages are not acked and come back later).

A durable that does not exist yet starts where the service's snapshot was taken (``start_at``: stream ->
last sequence the snapshot covers) rather than at the beginning of the stream, so a new replica with
durables of its own (or a scheduler whose durables were removed) does not replay a week of history. A
durable that exists keeps its position, whatever the snapshot says.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
import structlog
from nats.aio.msg import Msg
from nats.js import api
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import ValidationError

from deis_common.bus.jetstream import Bus, consumer_exists, pull_subscription
from deis_common.bus.router import Context, HandlerSpec
from deis_common.errors import Reject, RetryLater
from deis_common.events.base import Envelope, Event
from deis_common.events.registry import stream_name

log = structlog.get_logger(__name__)

StartPositions = Callable[[], Awaitable[dict[str, int]]]
"""Awaited only when a durable is created: stream name -> the last sequence the service's state covers."""

BACKOFF_BASE = 0.5
BACKOFF_MAX = 30.0


def backoff(deliveries: int) -> float:
    """Delay before the next attempt after ``deliveries`` failed ones: 0.5 s doubling up to 30 s."""
    return float(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, deliveries - 1)))


class HandlerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.handled = Counter(
            "deis_events_handled",
            "Events handled, by handler and outcome (ack, retry, reject, error)",
            ["handler", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "deis_event_handler_seconds", "Time spent in event handlers", ["handler"], registry=registry
        )


class ConsumerRunner:
    """One handler's fetch loop and its in-flight messages."""

    def __init__(
        self,
        bus: Bus,
        service: str,
        spec: HandlerSpec,
        metrics: HandlerMetrics,
        start_at: StartPositions | None = None,
    ) -> None:
        self.bus = bus
        self.start_at = start_at
        self.service = service
        self.spec = spec
        self.metrics = metrics
        self.durable = f"{service}-{spec.name}"
        self._inflight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(spec.concurrency)
        self._closing = asyncio.Event()
        self._log = log.bind(consumer=self.durable)

    async def _start_sequence(self, stream: str) -> int | None:
        """Where a new durable starts: right after the snapshot's position, when there is one to wait for."""
        if self.start_at is None or self.spec.deliver_new_only:
            return None
        if await consumer_exists(self.bus, durable=self.durable, stream=stream):
            return None
        covered = (await self.start_at()).get(stream)
        return None if covered is None else covered + 1

    async def run(self) -> None:
        spec = self.spec
        stream = stream_name(spec.event_type.family)
        start = await self._start_sequence(stream)
        if start is not None:
            deliver, start_seq = api.DeliverPolicy.BY_START_SEQUENCE, start
            self._log.info("consumer.starts_after_snapshot", stream=stream, sequence=start)
        else:
            deliver = api.DeliverPolicy.NEW if spec.deliver_new_only else api.DeliverPolicy.ALL
            start_seq = None
        config = api.ConsumerConfig(
            durable_name=self.durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=spec.ack_wait,
            max_deliver=spec.max_deliver,
            filter_subject=spec.event_type.subject,
            deliver_policy=deliver,
            opt_start_seq=start_seq,
            max_ack_pending=max(1000, spec.concurrency),
            inactive_threshold=spec.inactive_threshold,
        )
        sub = await pull_subscription(
            self.bus,
            durable=self.durable,
            stream=stream,
            subject=spec.event_type.subject,
            config=config,
        )
        self._log.debug("consumer.started")
        try:
            await self._fetch_loop(sub)
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def _fetch_loop(self, sub: Any) -> None:
        while not self._closing.is_set():
            await self._slots.acquire()
            if self._closing.is_set():
                self._slots.release()
                break
            try:
                msgs = await sub.fetch(1, timeout=1.0)
            except (TimeoutError, nats.errors.TimeoutError):
                self._slots.release()
                continue
            except nats.errors.Error as e:
                self._slots.release()
                if self._closing.is_set():
                    break
                self._log.warning("consumer.fetch_failed", error=str(e))
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                task = asyncio.create_task(
                    self._handle(msg), name=f"{self.durable}:{msg.metadata.sequence.stream}"
                )
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

    def close_intake(self) -> None:
        self._closing.set()

    async def drain(self, grace: float) -> None:
        """Let in-flight handlers finish within ``grace`` seconds, then cancel the rest."""
        self.close_intake()
        if not self._inflight:
            return
        _, pending = await asyncio.wait(set(self._inflight), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            self._log.warning("consumer.cancelled_inflight", count=len(pending))
            await asyncio.wait(pending)

    async def _handle(self, msg: Msg) -> None:
        try:
            await self._dispatch(msg)
        finally:
            self._slots.release()

    async def _dispatch(self, msg: Msg) -> None:
        spec = self.spec
        deliveries = msg.metadata.num_delivered or 1
        try:
            envelope = Envelope.from_bytes(msg.data)
            event: Event = envelope.open(spec.event_type)
        except ValidationError as e:
            self._log.error("consumer.unreadable", subject=msg.subject, error=str(e))
            self.metrics.handled.labels(self.durable, "reject").inc()
            await msg.term()
            return
        bound = self._log.bind(
            event_id=envelope.id, app=envelope.subject, correlation_id=envelope.correlation_id
        )
        ctx = Context(bus=self.bus, envelope=envelope, deliveries=deliveries, log=bound, service=self.service)
        heartbeat = asyncio.create_task(self._keep_alive(msg), name=f"{self.durable}:heartbeat")
        started = time.monotonic()
        try:
            await spec.func(event, ctx)
        except RetryLater as e:
            bound.info("handler.retry_later", reason=str(e), delay=e.delay)
            self.metrics.handled.labels(self.durable, "retry").inc()
            await msg.nak(delay=e.delay)
        except Reject as e:
            bound.warning("handler.rejected", reason=str(e))
            self.metrics.handled.labels(self.durable, "reject").inc()
            await msg.term()
        except asyncio.CancelledError:
            bound.info("handler.cancelled")
            raise
        except Exception:
            delay = backoff(deliveries)
            bound.exception("handler.failed", deliveries=deliveries, retry_in=delay)
            self.metrics.handled.labels(self.durable, "error").inc()
            with contextlib.suppress(nats.errors.Error):
                await msg.nak(delay=delay)
        else:
            self.metrics.handled.labels(self.durable, "ack").inc()
            await msg.ack()
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            self.metrics.duration.labels(self.durable).observe(time.monotonic() - started)

    async def _keep_alive(self, msg: Msg) -> None:
        interval = max(0.5, self.spec.ack_wait / 2)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(nats.errors.Error):
                await msg.in_progress()
