"""What every request handler and event handler of the controller shares, and its unit of work.

A :class:`Work` is one database transaction plus what must happen once it commits: events go into the
outbox inside the transaction (so a crash after commit loses nothing) and the publisher is woken after
commit; controller log lines are appended to the app's log after commit (best effort).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.events.base import Envelope, Event, new_id
from deis_common.service import Service
from deis_controller.db import Database, Tx
from deis_controller.db import outbox as outbox_db
from deis_controller.domain.credentials import password_hasher
from deis_controller.settings import ControllerSettings

log = structlog.get_logger(__name__)

# the API request (or event chain) being served; events emitted while serving it carry it
CORRELATION: ContextVar[str | None] = ContextVar("deis_correlation_id", default=None)


@dataclass
class Work:
    tx: Tx
    source: str
    correlation_id: str | None = None
    read_only: bool = False
    events: list[Envelope] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)

    async def emit(self, event: Event) -> Envelope:
        """Queue ``event`` in the outbox; its row id is the event id, so re-publishing de-duplicates."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot emit events")
        envelope = Envelope.wrap(
            event, source=self.source, correlation_id=self.correlation_id, event_id=new_id()
        )
        await outbox_db.add(self.tx, envelope.id, envelope.model_dump(mode="json"))
        self.events.append(envelope)
        return envelope

    def log(self, app: str, message: str) -> None:
        """A ``deis[controller]`` line for the app's log, written once the transaction commits."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot log")
        self.lines.append((app, message))


class Controller:
    def __init__(self, service: Service, settings: ControllerSettings) -> None:
        self.service = service
        self.settings = settings
        self._db: Database | None = None
        self.outbox_wakeup = asyncio.Event()
        self.hasher = password_hasher(settings.password_time_cost, settings.password_memory_kib)

    def attach(self, db: Database | None) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the database is available once the controller has started")
        return self._db

    @property
    def bus(self) -> Bus:
        return self.service.bus

    @contextlib.asynccontextmanager
    async def work(self, correlation_id: str | None = None) -> AsyncIterator[Work]:
        async with self.db.transaction() as tx:
            unit = Work(tx=tx, source=self.service.name, correlation_id=correlation_id or CORRELATION.get())
            yield unit
        if unit.events:
            self.outbox_wakeup.set()
        for app, message in unit.lines:
            await self.app_log(app, message)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Work]:
        """A unit of work that only reads: a connection outside any transaction, no events, no log."""
        async with self.db.read() as tx:
            yield Work(tx=tx, source=self.service.name, read_only=True)

    async def app_log(self, app: str, message: str) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        try:
            await self.bus.append_log(app, f"{now} deis[controller]: INFO {message}")
        except BusError:
            log.warning("controller.app_log_failed", app=app)
