"""The platform's NATS refuses anonymous clients and holds every user to its subjects (deis_common.natsauth).

The server here runs the same generated authorization config as ``deis-platform up``; each test connects
as a platform user and tries what that user may and may not do.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from pydantic import SecretStr

from deis_common.bus import Bus, Context, Router
from deis_common.errors import BusError
from deis_common.events import BuildCompleted, ReleaseCreated
from deis_common.events.base import Envelope, Event, new_id
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_common.events.registry import ALL_EVENTS, CONFIDENTIAL_EVENTS
from deis_common.natsauth import (
    INTEGRATION_SUBJECTS,
    INTEGRATIONS_USER,
    ROLES,
    SERVICE_USERS,
    USERS,
    inbox_prefix,
)
from deis_common.service import Service
from deis_common.settings import HttpSettings, NatsSettings, ServiceSettings
from deis_common.testing.nats import NatsServer

SAMPLES = Path(__file__).resolve().parents[1] / "contract" / "samples"
MARKER = "tests.nobody-may-publish-here"
VIOLATION = re.compile(r'permissions violation for (publish|subscription) to "([^"]+)"', re.IGNORECASE)


def sample(event: type[Event]) -> Envelope:
    """The golden sample of ``event`` (tests/contract/samples): a real payload, config values included.

    Each gets a fresh id: samples share ids, which JetStream would de-duplicate."""
    envelope = Envelope.model_validate(json.loads((SAMPLES / f"{event.subject}.json").read_text()))
    return envelope.model_copy(update={"id": new_id()})


class Client:
    """A raw NATS connection as one user, collecting the permission violations the server reports."""

    def __init__(self, nc: NATS, refused: list[str], marker: asyncio.Queue[None]) -> None:
        self.nc = nc
        self.refused = refused
        self._marker = marker

    async def settle(self) -> set[str]:
        """Subjects refused so far (lower case, as the client reports them).

        The server reports violations asynchronously but in order, so a publish to a subject nobody may
        use marks the end: once its refusal is back, so are those of everything sent before it.
        """
        await self.nc.publish(MARKER, b"")
        await asyncio.wait_for(self._marker.get(), 10)
        return {subject.lower() for subject in self.refused}


@pytest_asyncio.fixture
async def connect(secured_nats: NatsServer) -> AsyncIterator[Any]:
    opened: list[NATS] = []

    async def as_user(user: str) -> Client:
        refused: list[str] = []
        marker: asyncio.Queue[None] = asyncio.Queue()

        async def on_error(error: Exception) -> None:
            found = VIOLATION.search(str(error))
            if found is None:
                return
            if found.group(2).lower() == MARKER:
                marker.put_nowait(None)
            else:
                refused.append(found.group(2))

        settings = secured_nats.settings(user)
        nc = await nats.connect(
            settings.url,
            user=settings.user,
            password=settings.password.get_secret_value(),
            inbox_prefix=inbox_prefix(settings.user),
            error_cb=on_error,
            allow_reconnect=False,
        )
        opened.append(nc)
        return Client(nc, refused, marker)

    yield as_user
    for nc in opened:
        await nc.close()


@pytest_asyncio.fixture
async def superuser_bus(secured_nats: NatsServer) -> AsyncIterator[Bus]:
    bus = await Bus.connect(secured_nats.settings(), source="tests")
    await bus.ensure_streams()
    yield bus
    await bus.close()


async def test_a_connection_without_credentials_is_refused(secured_nats: NatsServer) -> None:
    with pytest.raises(BusError, match="refuses anonymous connections"):
        await Bus.connect(NatsSettings(url=secured_nats.url), source="anonymous")


async def test_a_wrong_password_is_refused(secured_nats: NatsServer) -> None:
    wrong = NatsSettings(url=secured_nats.url, user="scheduler", password=SecretStr("guessed"))
    with pytest.raises(BusError, match="refuses user 'scheduler'"):
        await Bus.connect(wrong, source="scheduler")


@pytest.mark.parametrize("user", SERVICE_USERS)
async def test_each_service_publishes_only_the_events_it_owns(connect: Any, user: str) -> None:
    client = await connect(user)
    for event in ALL_EVENTS:
        await client.nc.publish(event.subject, b"{}")
    owned = {event.subject for event in ROLES[user].publishes}
    assert await client.settle() == {event.subject for event in ALL_EVENTS} - owned


async def test_the_scheduler_cannot_forge_a_completed_build(connect: Any, superuser_bus: Bus) -> None:
    scheduler = await connect("scheduler")
    forged = sample(BuildCompleted)
    await scheduler.nc.publish(BuildCompleted.subject, forged.to_bytes(), headers={"Nats-Msg-Id": forged.id})
    assert await scheduler.settle() == {BuildCompleted.subject}
    builds = await superuser_bus.js.stream_info("DEIS_BUILDS")
    assert builds.state.messages == 0


async def test_the_builder_cannot_publish_a_release(connect: Any) -> None:
    builder = await connect("builder")
    await builder.nc.publish(ReleaseCreated.subject, sample(ReleaseCreated).to_bytes())
    assert await builder.settle() == {ReleaseCreated.subject}


@pytest.mark.parametrize("user", USERS)
async def test_nobody_reads_everything_or_another_users_replies(connect: Any, user: str) -> None:
    client = await connect(user)
    other = "controller" if user != "controller" else "scheduler"
    attempts = ["deis.v1.>", ">", "_INBOX.>", f"{inbox_prefix(other)}.>", "$JS.API.>"]
    for subject in attempts:
        await client.nc.subscribe(subject)
    assert await client.settle() == {subject.lower() for subject in attempts}


async def _answer_of(bus: Bus, subject: str) -> Snapshot:
    """The answer to a request on ``subject``. A responder that just subscribed may take a moment to be known
    to the server on a loaded machine, so "nobody answers" is asked again for a few seconds."""
    for _ in range(50):
        try:
            return await bus.request(subject, SnapshotRequest(), Snapshot, timeout=5)
        except BusError as e:
            if "nobody answers" not in str(e):
                raise
            await asyncio.sleep(0.1)
    raise AssertionError(f"nobody answers {subject} with the service's own credentials")


@pytest.mark.parametrize("user", SERVICE_USERS)
async def test_each_service_does_its_part_on_the_bus(
    secured_nats: NatsServer, superuser_bus: Bus, user: str
) -> None:
    """With its own credentials: ensure the streams, consume every event of its role through durable
    consumers (fetch, ack), publish every event it owns, send its requests, answer the ones it serves."""
    role = ROLES[user]
    received: asyncio.Queue[str] = asyncio.Queue()
    router = Router()
    for event in role.consumes:

        async def handle(_: Event, ctx: Context) -> None:
            received.put_nowait(ctx.envelope.type)

        router.on(event, name=event.subject.replace(".", "-"))(handle)
    settings = ServiceSettings(nats=secured_nats.settings(user), http=HttpSettings(port=0), grace_period=2.0)
    service = Service(user, settings)
    service.include_router(router)
    async with service.running():
        for event in role.consumes:
            await superuser_bus.publish_envelope(sample(event))
        got = [await asyncio.wait_for(received.get(), 10) for _ in role.consumes]
        assert sorted(got) == sorted(event.subject for event in role.consumes)
        for event in role.publishes:
            await service.bus.publish_envelope(sample(event))
        for subject in role.sends:
            if "*" not in subject:  # a request: refused, it would time out instead
                with pytest.raises(BusError, match="nobody answers"):
                    await service.bus.request(subject, SnapshotRequest(), Snapshot, timeout=5)
        for subject in role.serves:

            async def answer(_: SnapshotRequest) -> Snapshot:
                return Snapshot()

            await service.bus.serve(subject, SnapshotRequest, answer, queue=user)
            assert await _answer_of(superuser_bus, subject) == Snapshot()
        if role.writes_logs:
            await service.bus.append_log("web", f"a line from the {user}")
        if role.reads_logs:
            assert await service.bus.read_log("web") == [f"a line from the {user}"]
            await service.bus.delete_log("web")
            assert await service.bus.read_log("web") == []


async def test_the_integrations_user_reads_events_but_never_config_values(
    connect: Any, superuser_bus: Bus
) -> None:
    integrations = await connect(INTEGRATIONS_USER)
    seen: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_message(msg: Any) -> None:
        seen.put_nowait(msg.data)

    for subject in INTEGRATION_SUBJECTS:
        await integrations.nc.subscribe(subject, cb=on_message)
    assert await integrations.settle() == set()
    for event in CONFIDENTIAL_EVENTS:
        await integrations.nc.subscribe(event.subject, cb=on_message)
    confidential = {event.subject for event in CONFIDENTIAL_EVENTS}
    assert await integrations.settle() == confidential

    for event in ALL_EVENTS:
        await superuser_bus.publish_envelope(sample(event))
    delivered = [Envelope.from_bytes(await asyncio.wait_for(seen.get(), 10)) for _ in INTEGRATION_SUBJECTS]
    assert sorted(e.type for e in delivered) == sorted(INTEGRATION_SUBJECTS)
    assert seen.empty()
    release = sample(ReleaseCreated).open(ReleaseCreated)
    assert release.state.env, "the sample must carry config values for this test to mean anything"
    for value in release.state.env.values():
        assert all(value not in e.model_dump_json() for e in delivered)


async def test_the_integrations_user_publishes_nothing_and_reads_no_stream(connect: Any) -> None:
    integrations = await connect(INTEGRATIONS_USER)
    attempts = [
        "deis.v1.apps.created",
        SNAPSHOT_SUBJECT,
        "$JS.API.STREAM.INFO.DEIS_RELEASES",
        "$JS.API.CONSUMER.CREATE.DEIS_RELEASES.mine.deis.v1.releases.created",
        "$JS.API.STREAM.MSG.GET.DEIS_RELEASES",
        "$JS.API.DIRECT.GET.DEIS_RELEASES",
    ]
    for subject in attempts:
        await integrations.nc.publish(subject, b"{}")
    assert await integrations.settle() == {subject.lower() for subject in attempts}
