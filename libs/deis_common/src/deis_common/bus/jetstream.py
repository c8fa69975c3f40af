"""The NATS JetStream adapter: the only module that talks to the NATS client library.

It owns the connection, declares streams (one per event family, plus ``DEIS_LOGS``), publishes events
in their envelope with ``Nats-Msg-Id`` = event id (server-side de-duplication), runs durable pull
consumers for routers, and offers request/reply and ephemeral watches. It must not know any service.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import api
from pydantic import BaseModel, ValidationError

from deis_common.bus.watch import Watch
from deis_common.errors import BusError, NoResponders
from deis_common.events.base import Envelope, Event, Model
from deis_common.events.logs import LINES_PER_APP, LOGS_PREFIX, LOGS_STREAM, log_subject
from deis_common.events.registry import FAMILIES, stream_name
from deis_common.natsauth import inbox_prefix
from deis_common.settings import NatsSettings

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)

AUTHORIZATION_VIOLATION = "authorization violation"
DUPLICATE_WINDOW = timedelta(minutes=2)
EVENT_MAX_AGE = timedelta(days=7)


class Bus:
    """One service's connection to the platform bus."""

    def __init__(self, nc: NATS, *, source: str, replicas: int = 1) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.source = source
        self.replicas = replicas

    @classmethod
    async def connect(cls, settings: NatsSettings, *, source: str) -> Bus:
        """Connect, waiting for NATS as long as it takes, but not for credentials it refused."""
        connected = False

        async def on_error(exc: Exception) -> None:
            if not connected and AUTHORIZATION_VIOLATION in str(exc).lower():
                # raised from the callback, this ends the client's first-connect retry loop: a refused
                # user or password will not become right by retrying
                who = f"user {settings.user!r}" if settings.user else "anonymous connections"
                raise BusError(f"NATS at {settings.url} refuses {who}")
            log.warning("nats.error", error=str(exc))

        credentials: dict[str, Any] = {}
        if settings.user:
            # replies come to the user's own inbox prefix: the only one its permissions let it read
            credentials = {
                "user": settings.user,
                "password": settings.password.get_secret_value(),
                "inbox_prefix": inbox_prefix(settings.user),
            }
        try:
            nc = await nats.connect(
                servers=[url.strip() for url in settings.url.split(",")],
                name=source,
                connect_timeout=settings.connect_timeout,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                error_cb=on_error,
                drain_timeout=5,
                **credentials,
            )
        except (OSError, nats.errors.Error) as e:
            raise BusError(f"cannot connect to NATS at {settings.url}: {e}") from e
        connected = True
        return cls(nc, source=source, replicas=settings.stream_replicas)

    # -- streams ---------------------------------------------------------------------------------

    async def ensure_streams(self) -> None:
        """Create (or update) every stream; safe to call from every replica at every start."""
        for family, events in FAMILIES.items():
            await self._ensure_stream(
                api.StreamConfig(
                    name=stream_name(family),
                    subjects=sorted(e.subject for e in events),
                    storage=api.StorageType.FILE,
                    retention=api.RetentionPolicy.LIMITS,
                    max_age=EVENT_MAX_AGE.total_seconds(),
                    duplicate_window=DUPLICATE_WINDOW.total_seconds(),
                    num_replicas=self.replicas,
                )
            )
        await self._ensure_stream(
            api.StreamConfig(
                name=LOGS_STREAM,
                subjects=[f"{LOGS_PREFIX}.>"],
                storage=api.StorageType.FILE,
                retention=api.RetentionPolicy.LIMITS,
                max_msgs_per_subject=LINES_PER_APP,
                discard=api.DiscardPolicy.OLD,
                num_replicas=self.replicas,
            )
        )

    async def _ensure_stream(self, config: api.StreamConfig) -> None:
        try:
            await self.js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await self.js.update_stream(config)
        except nats.errors.Error as e:
            raise BusError(f"cannot create stream {config.name}: {e}") from e

    async def last_sequence(self, stream: str) -> int:
        """The sequence of the newest message in ``stream`` (0 when empty)."""
        try:
            info = await self.js.stream_info(stream)
        except nats.errors.Error as e:
            raise BusError(f"cannot read the state of stream {stream}: {e}") from e
        return int(info.state.last_seq or 0)

    async def consumer_floor(self, stream: str, durable: str) -> int | None:
        """The stream sequence up to which ``durable`` has acknowledged everything (None: no such durable).

        Every message at or below it was handled, so state derived from them is complete up to there.
        """
        try:
            info = await self.js.consumer_info(stream, durable)
        except nats.js.errors.NotFoundError:
            return None
        except nats.errors.Error as e:
            raise BusError(f"cannot read consumer {durable} of {stream}: {e}") from e
        return int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0

    # -- publishing ------------------------------------------------------------------------------

    async def publish(
        self, event: Event, *, correlation_id: str | None = None, event_id: str | None = None
    ) -> Envelope:
        envelope = Envelope.wrap(event, source=self.source, correlation_id=correlation_id, event_id=event_id)
        await self.publish_envelope(envelope)
        return envelope

    async def publish_envelope(self, envelope: Envelope) -> None:
        """Publish an already wrapped event (the controller's outbox replays these)."""
        try:
            await self.js.publish(envelope.type, envelope.to_bytes(), headers={"Nats-Msg-Id": envelope.id})
        except nats.errors.Error as e:
            raise BusError(f"cannot publish {envelope.type}: {e}") from e

    async def publish_core(self, subject: str, payload: bytes) -> None:
        """Fire-and-forget on core NATS (build log lines); nothing is stored."""
        await self.nc.publish(subject, payload)

    # -- ephemeral watching ----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def watch(
        self, *watched: type[Event] | str, app: str | None = None, lines: str | None = None
    ) -> AsyncIterator[Watch]:
        """Every replica sees everything: the watched events (of ``app`` only, if given) from now on.

        ``watched`` are event types, or subjects and wildcards whose envelopes only
        :meth:`Watch.envelope` returns (relays). ``lines`` adds the text lines of one core subject
        (a build's log): it shares one subscription with the watched events of its family, so lines
        and outcome keep the order they were published in. Open the watch before triggering the
        work, or the answer may come first.
        """
        queue: asyncio.Queue[Envelope | str] = asyncio.Queue()
        subjects = {w if isinstance(w, str) else w.subject for w in watched}
        wanted = set(subjects)
        shared = ""  # with lines: the family prefix one subscription takes whole
        if lines is not None:
            shared = ".".join(lines.split(".")[:3]) + "."  # deis.v1.<family>.
            subjects = {s for s in subjects if not s.startswith(shared)} | {f"{shared}>"}

        async def on_message(msg: Msg) -> None:
            if msg.subject == lines:
                queue.put_nowait(msg.data.decode(errors="replace"))
                return
            if shared and msg.subject.startswith(shared) and msg.subject not in wanted:
                return  # the family's other subjects, taken whole only to keep the order
            try:
                queue.put_nowait(Envelope.from_bytes(msg.data))
            except ValidationError:
                log.warning("bus.watch.bad_envelope", subject=msg.subject)

        subs = [await self.nc.subscribe(s, cb=on_message) for s in sorted(subjects)]
        await self.nc.flush()
        try:
            yield Watch(queue, tuple(w for w in watched if not isinstance(w, str)), app=app)
        finally:
            for sub in subs:
                with contextlib.suppress(nats.errors.Error):
                    await sub.unsubscribe()

    async def subscribe_raw(
        self, subject: str, callback: Callable[[str, bytes], Awaitable[None]]
    ) -> Subscription:
        async def on_message(msg: Msg) -> None:
            await callback(msg.subject, msg.data)

        sub = await self.nc.subscribe(subject, cb=on_message)
        await self.nc.flush()
        return sub

    # -- request / reply -------------------------------------------------------------------------

    async def request(self, subject: str, request: Model, reply_type: type[M], *, timeout: float = 10.0) -> M:
        try:
            msg = await self.nc.request(subject, request.model_dump_json().encode(), timeout=timeout)
        except nats.errors.NoRespondersError as e:
            raise NoResponders(f"nobody answers {subject}") from e
        except nats.errors.TimeoutError as e:
            raise BusError(f"{subject} did not answer within {timeout}s") from e
        if msg.data.startswith(b'{"error":'):
            body = json.loads(msg.data)
            if isinstance(body, dict) and "error" in body and len(body) == 1:
                raise BusError(f"{subject} failed: {body['error']}")
        # straight from bytes: several times faster than json.loads and validating the dicts
        return reply_type.model_validate_json(msg.data)

    async def serve(
        self,
        subject: str,
        request_type: type[M],
        handler: Callable[[M], Awaitable[BaseModel | bytes]],
        *,
        queue: str,
    ) -> Subscription:
        """Answer requests on ``subject``; replicas in the same ``queue`` share them. A handler answers with
        a model, or with the JSON of one already written (bytes, sent as they are)."""

        async def on_request(msg: Msg) -> None:
            try:
                answer = await handler(request_type.model_validate_json(msg.data))
                reply = answer if isinstance(answer, bytes) else answer.model_dump_json().encode()
            except Exception as e:  # the requester gets the reason instead of a timeout
                log.exception("bus.serve.failed", subject=subject)
                reply = json.dumps({"error": str(e) or type(e).__name__}).encode()
            await msg.respond(reply)

        sub = await self.nc.subscribe(subject, queue=queue, cb=on_request)
        await self.nc.flush()  # the server knows the responder once this returns
        return sub

    # -- app logs --------------------------------------------------------------------------------

    async def append_log(self, app: str, line: str) -> None:
        """Add one formatted line to the app's log (the stream keeps the newest 1000)."""
        try:
            await self.js.publish(log_subject(app), line.encode())
        except nats.errors.Error as e:
            raise BusError(f"cannot append to the log of {app}: {e}") from e

    async def read_log(self, app: str, lines: int = 100) -> list[str]:
        """The newest ``lines`` lines of the app's log, oldest first."""
        subject = log_subject(app)
        try:
            info = await self.js.stream_info(LOGS_STREAM, subjects_filter=subject)
        except nats.js.errors.NotFoundError:
            return []
        count = (info.state.subjects or {}).get(subject, 0)
        if count == 0:
            return []
        wanted = min(lines, count)
        sub = await self.js.pull_subscribe(
            subject,
            stream=LOGS_STREAM,
            config=api.ConsumerConfig(
                deliver_policy=api.DeliverPolicy.ALL,
                ack_policy=api.AckPolicy.NONE,
                inactive_threshold=30,
                mem_storage=True,
            ),
        )
        out: list[str] = []
        try:
            while len(out) < count:
                try:
                    batch = await sub.fetch(min(256, count - len(out)), timeout=2)
                except nats.errors.TimeoutError:
                    break
                out.extend(m.data.decode(errors="replace") for m in batch)
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()
        return out[-wanted:]

    async def follow_log(self, app: str) -> AsyncIterator[str]:
        """New lines of the app's log as they arrive (until the consumer stops iterating)."""
        queue: asyncio.Queue[str] = asyncio.Queue()

        async def on_line(_: str, data: bytes) -> None:
            queue.put_nowait(data.decode(errors="replace"))

        sub = await self.subscribe_raw(log_subject(app), on_line)
        try:
            while True:
                yield await queue.get()
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

    async def delete_log(self, app: str) -> None:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.js.purge_stream(LOGS_STREAM, subject=log_subject(app))

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def max_payload(self) -> int:
        """The largest message the server accepts, in bytes (1 MiB unless configured otherwise)."""
        return int(self.nc.max_payload)

    @property
    def connected(self) -> bool:
        return bool(self.nc.is_connected)

    async def close(self) -> None:
        """Drain: finish in-flight callbacks, flush publishes, then close."""
        if self.nc.is_closed:
            return
        with contextlib.suppress(nats.errors.Error, asyncio.TimeoutError):
            await self.nc.drain()


async def consumer_exists(bus: Bus, *, durable: str, stream: str) -> bool:
    try:
        await bus.js.consumer_info(stream, durable)
    except nats.js.errors.NotFoundError:
        return False
    except nats.errors.Error as e:
        raise BusError(f"cannot look up consumer {durable}: {e}") from e
    return True


async def pull_subscription(
    bus: Bus, *, durable: str, stream: str, subject: str, config: api.ConsumerConfig
) -> Any:
    """A durable pull subscription; replicas with the same durable share its messages."""
    try:
        return await bus.js.pull_subscribe(subject, durable=durable, stream=stream, config=config)
    except nats.errors.Error as e:
        raise BusError(f"cannot create consumer {durable}: {e}") from e
