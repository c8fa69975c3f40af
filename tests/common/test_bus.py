"""The bus against a real nats-server: delivery, work sharing, redelivery, de-duplication, cancellation."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from deis_common.bus import Bus, Context, Router
from deis_common.errors import Reject, RetryLater
from deis_common.events import AppCreated, BuildCompleted, BuildFailed
from deis_common.events.base import Envelope
from deis_common.service import Service
from deis_common.settings import HttpSettings, NatsSettings, ServiceSettings
from deis_common.testing.recorder import EventRecorder


def settings(nats_url: str, *, grace: float = 5.0) -> ServiceSettings:
    return ServiceSettings(nats=NatsSettings(url=nats_url), http=HttpSettings(port=0), grace_period=grace)


def service_with(router: Router, nats_url: str, name: str = "worker", grace: float = 5.0) -> Service:
    service = Service(name, settings(nats_url, grace=grace))
    service.include_router(router)
    return service


async def until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_published_event_reaches_a_durable_consumer(bus: Bus, nats_url: str) -> None:
    seen: list[AppCreated] = []
    router = Router()

    @router.on(AppCreated)
    async def remember(event: AppCreated, ctx: Context) -> None:
        seen.append(event)

    # Published before the consumer exists: the durable starts from the stream's beginning.
    await bus.publish(AppCreated(app="myapp", owner="alice"), correlation_id="push-1")
    async with service_with(router, nats_url).running():
        await until(lambda: len(seen) == 1)
    assert seen[0] == AppCreated(app="myapp", owner="alice")


async def test_two_replicas_share_the_work(bus: Bus, nats_url: str) -> None:
    handled_by: Counter[str] = Counter()
    done = asyncio.Event()

    def make_router(replica: str) -> Router:
        router = Router()

        @router.on(AppCreated, name="count")
        async def count(event: AppCreated, ctx: Context) -> None:
            handled_by[replica] += 1
            await asyncio.sleep(0.02)
            if sum(handled_by.values()) == 40:
                done.set()

        return router

    async with (
        service_with(make_router("a"), nats_url).running(),
        service_with(make_router("b"), nats_url).running(),
    ):
        for i in range(40):
            await bus.publish(AppCreated(app=f"app{i}", owner="alice"))
        await asyncio.wait_for(done.wait(), 15)
    assert sum(handled_by.values()) == 40
    assert handled_by["a"] > 0 and handled_by["b"] > 0


async def test_a_nakd_message_is_redelivered(bus: Bus, nats_url: str) -> None:
    attempts: list[int] = []
    router = Router()

    @router.on(AppCreated)
    async def flaky(event: AppCreated, ctx: Context) -> None:
        attempts.append(ctx.deliveries)
        if ctx.deliveries == 1:
            raise RetryLater("not yet", delay=0.1)
        if ctx.deliveries == 2:
            raise RuntimeError("boom")

    async with service_with(router, nats_url).running():
        await bus.publish(AppCreated(app="myapp", owner="alice"))
        await until(lambda: len(attempts) == 3)
        await asyncio.sleep(1.0)
    assert attempts == [1, 2, 3]


async def test_a_rejected_message_is_not_redelivered(bus: Bus, nats_url: str) -> None:
    attempts: list[int] = []
    router = Router()

    @router.on(AppCreated)
    async def refuse(event: AppCreated, ctx: Context) -> None:
        attempts.append(ctx.deliveries)
        raise Reject("never")

    async with service_with(router, nats_url).running():
        await bus.publish(AppCreated(app="myapp", owner="alice"))
        await until(lambda: len(attempts) == 1)
        await asyncio.sleep(1.5)
    assert attempts == [1]


async def test_a_duplicate_publish_is_stored_once(bus: Bus) -> None:
    event = BuildFailed(app="myapp", build_id="b1", reason="compile error")
    envelope = Envelope.wrap(event, source="tests")
    await bus.publish_envelope(envelope)
    await bus.publish_envelope(envelope)
    info = await bus.js.stream_info("DEIS_BUILDS")
    assert info.state.messages == 1


async def test_a_cancelled_handler_gets_its_message_again_after_restart(bus: Bus, nats_url: str) -> None:
    started = asyncio.Event()
    finished: list[str] = []

    def make_router(block: bool) -> Router:
        router = Router()

        @router.on(BuildCompleted, name="deploy", ack_wait=2.0)
        async def deploy(event: BuildCompleted, ctx: Context) -> None:
            started.set()
            if block:
                await asyncio.sleep(3600)
            finished.append(event.build_id)

        return router

    completed = BuildCompleted.model_validate(
        {
            "app": "myapp",
            "build_id": "b7",
            "user": "alice",
            "artifact": {"kind": "buildpack", "location": "k"},
        }
    )
    await bus.publish(completed)
    async with service_with(make_router(block=True), nats_url, grace=0.2).running():
        await asyncio.wait_for(started.wait(), 10)
    assert finished == []
    async with service_with(make_router(block=False), nats_url).running():
        await until(lambda: finished == ["b7"], timeout=15)


async def test_service_serves_health_and_metrics(nats_url: str) -> None:
    import aiohttp

    service = Service("probe", settings(nats_url))
    async with service.running(), aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{service.port}"
        async with http.get(f"{base}/healthz") as resp:
            assert (resp.status, await resp.text()) == (200, "OK")
        async with http.get(f"{base}/readiness") as resp:
            assert (resp.status, await resp.text()) == (200, "OK")
        async with http.get(f"{base}/metrics") as resp:
            assert 'deis_service_up{service="probe"} 1.0' in await resp.text()


async def test_request_reply_and_app_logs(bus: Bus, recorder: EventRecorder) -> None:
    from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
    from deis_common.events.state import AppSnapshot

    async def answer(request: SnapshotRequest) -> Snapshot:
        return Snapshot(apps=[AppSnapshot(app=request.app or "all")])

    await bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, answer, queue="controller")
    reply = await bus.request(SNAPSHOT_SUBJECT, SnapshotRequest(app="myapp"), Snapshot)
    assert reply.apps[0].app == "myapp"

    for i in range(1005):
        await bus.append_log("myapp", f"line {i}")
    lines = await bus.read_log("myapp", lines=5)
    assert lines == [f"line {i}" for i in range(1000, 1005)]
    assert len(await bus.read_log("myapp", lines=5000)) == 1000
    assert await bus.read_log("other") == []


@pytest.mark.parametrize("name", ["BuildCompleted", "deis.v1.releases.created"])
def test_event_schema_cli_prints_json_schema(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from deis_common.events.cli import main

    assert main(["schema", name]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["subject"].startswith("deis.v1.")
    assert "properties" in document


async def test_a_resource_that_never_finishes_closing_does_not_keep_the_service_up(nats_url: str) -> None:
    import contextlib

    closed_after: list[str] = []

    @contextlib.asynccontextmanager
    async def stubborn(_: Service):  # type: ignore[no-untyped-def]
        yield
        await asyncio.Event().wait()  # a pool waiting for a connection nobody returns

    @contextlib.asynccontextmanager
    async def tidy(_: Service):  # type: ignore[no-untyped-def]
        yield
        closed_after.append("tidy")

    service = Service("stubborn", settings(nats_url, grace=0.5))
    service.add_resource(tidy)
    service.add_resource(stubborn)
    async with asyncio.timeout(10):
        async with service.running():
            pass
    assert closed_after == ["tidy"]
