"""How routes reach nginx: coalesced reloads, confirmation only once served, the snapshot, restarts."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from deis_common.bus import Bus
from deis_common.events.base import Envelope
from deis_common.events.containers import ContainersHealthy
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_common.events.domains import DomainAdded
from deis_common.events.routes import RoutesRejected, RoutesUpdated
from deis_common.events.state import AppSnapshot, CertBinding, RouteSettings
from deis_common.testing.recorder import EventRecorder
from deis_router_sync import build
from deis_router_sync.bootstrap import write_bootstrap
from deis_router_sync.nginx import nginx_binary
from tests.router_sync.router_harness import (
    RunningRouter,
    answer_to,
    backend,
    fetch,
    make_cert,
    publish_and_wait,
    router_settings,
)

SERVED = 'deis_router_reloads_total{outcome="served"}'


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """For effects no event announces (the snapshot): ask nginx until it answers as expected."""

    async def loop() -> None:
        while not await check():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


async def test_a_burst_of_events_is_served_with_one_reload(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("burst") as endpoint:
        before = await router.metric(SERVED)
        envelopes = await asyncio.gather(
            *(
                bus.publish(ContainersHealthy(app=f"app{i}", generation=1, version=1, endpoints=[endpoint]))
                for i in range(20)
            )
        )
        await recorder.wait_for(
            RoutesUpdated,
            where=lambda _: {e.correlation_id for e in recorder.envelopes} >= {e.id for e in envelopes},
        )

        assert len(recorder.of(RoutesUpdated)) == 20
        assert await router.metric(SERVED) - before <= 2
        assert await router.metric("deis_router_apps") == 20
        for i in range(20):
            assert (await router.get(f"app{i}.router.test")).backend == "burst"


async def test_once_routes_are_confirmed_no_request_reaches_the_previous_generation(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    for generation in range(1, 6):
        async with backend(f"v{generation}") as endpoint:
            event = ContainersHealthy(
                app="web", generation=generation, version=generation, endpoints=[endpoint]
            )
            await publish_and_wait(bus, recorder, event, RoutesUpdated)

            answers = await asyncio.gather(*(router.get("web.router.test") for _ in range(10)))
            assert {answer.backend for answer in answers} == {f"v{generation}"}


async def test_event_that_cannot_be_routed_is_rejected_with_a_reason(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web") as endpoint:
        bad_endpoint = ContainersHealthy(
            app="web", generation=1, version=1, endpoints=["127.0.0.1:99999", endpoint]
        )
        envelope = await bus.publish(bad_endpoint)
        rejected = await answer_to(recorder, envelope, RoutesRejected)
        assert (rejected.app, rejected.generation) == ("web", 1)
        assert "127.0.0.1:99999" in rejected.reason
        # The scheduler still gets its answer, and the good endpoint is served.
        updated = await answer_to(recorder, envelope, RoutesUpdated)
        assert updated.endpoints == [endpoint]
        assert (await router.get("web.router.test")).backend == "web"

    bad_domain = DomainAdded(app="web", domain="evil.example; return 200")
    rejected = await publish_and_wait(bus, recorder, bad_domain, RoutesRejected)
    assert "not a host name" in rejected.reason


async def test_routes_from_the_controller_snapshot_are_served_once_the_controller_answers(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async def snapshot(_: SnapshotRequest) -> Snapshot:
        return Snapshot(
            apps=[
                AppSnapshot(app="legacy", domains=["legacy.example"]),
                AppSnapshot(app="paused", routing=RouteSettings(maintenance=True)),
            ]
        )

    assert (await router.get("legacy.example")).status == 404
    sub = await bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, snapshot, queue="controller")
    try:
        await eventually(lambda: _status_is(router, "legacy.example", 503))
        async with backend("legacy") as endpoint:
            event = ContainersHealthy(app="legacy", generation=3, version=3, endpoints=[endpoint])
            await publish_and_wait(bus, recorder, event, RoutesUpdated)
            assert (await router.get("legacy.example")).backend == "legacy"
        assert b"maintenance" in (await router.get("paused.router.test")).body
    finally:
        await sub.unsubscribe()


async def test_snapshot_drops_apps_the_controller_no_longer_knows(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("old") as endpoint:
        event = ContainersHealthy(app="old", generation=1, version=1, endpoints=[endpoint])
        await publish_and_wait(bus, recorder, event, RoutesUpdated)
        assert (await router.get("old.router.test")).status == 200

        async def snapshot(_: SnapshotRequest) -> Snapshot:
            return Snapshot(apps=[AppSnapshot(app="other")])

        sub = await bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, snapshot, queue="controller")
        try:
            # Both at once: while nginx reloads, a request may still meet the previous config.
            async def both() -> bool:
                return await _status_is(router, "old.router.test", 404) and await _status_is(
                    router, "other.router.test", 503
                )

            await eventually(both)
        finally:
            await sub.unsubscribe()


async def test_a_restarted_router_sync_serves_the_same_routes_before_any_event(
    nats_url: str, tmp_path: Path, bus: Bus, recorder: EventRecorder
) -> None:
    settings = router_settings(nats_url, tmp_path / "router")
    async with backend("web") as endpoint:
        async with build(settings).running() as service:
            router = RunningRouter(service, settings)
            event = ContainersHealthy(app="web", generation=1, version=1, endpoints=[endpoint])
            await publish_and_wait(bus, recorder, event, RoutesUpdated)
            await publish_and_wait(bus, recorder, DomainAdded(app="web", domain="web.example"), RoutesUpdated)

        async with build(settings).running() as service:
            router = RunningRouter(service, settings)
            assert (await router.get("web.example")).backend == "web"
            assert (await router.get("web.router.test")).backend == "web"


async def test_router_sync_takes_over_an_nginx_it_did_not_start(
    nats_url: str, tmp_path: Path, bus: Bus, recorder: EventRecorder
) -> None:
    settings = router_settings(nats_url, tmp_path / "router", start_nginx=False)
    assert await write_bootstrap(settings) == settings.router.prefix / "nginx.conf"
    assert await write_bootstrap(settings) is None  # already router-sync's config
    nginx = await asyncio.create_subprocess_exec(
        str(nginx_binary(settings.router)),
        "-p",
        str(settings.router.prefix),
        "-c",
        "nginx.conf",
        "-g",
        "daemon off;",
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with build(settings).running() as service, backend("web") as endpoint:
            router = RunningRouter(service, settings)
            event = ContainersHealthy(app="web", generation=1, version=1, endpoints=[endpoint])
            await publish_and_wait(bus, recorder, event, RoutesUpdated)
            assert (await router.get("web.router.test")).backend == "web"
            readiness = await fetch(service.port or 0, "127.0.0.1", "/readiness")
            assert readiness.status == 200
        assert nginx.returncode is None  # not ours to stop
    finally:
        nginx.terminate()
        await nginx.wait()


async def test_router_sync_started_before_nginx_serves_once_nginx_is_up(
    nats_url: str, tmp_path: Path, bus: Bus, recorder: EventRecorder
) -> None:
    settings = router_settings(nats_url, tmp_path / "router", start_nginx=False)
    async with build(settings).running() as service, backend("web") as endpoint:
        router = RunningRouter(service, settings)
        envelope: Envelope = await bus.publish(
            ContainersHealthy(app="web", generation=1, version=1, endpoints=[endpoint])
        )
        nginx = await asyncio.create_subprocess_exec(
            str(nginx_binary(settings.router)),
            "-p",
            str(settings.router.prefix),
            "-c",
            "nginx.conf",
            "-g",
            "daemon off;",
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await recorder.wait_for(
                RoutesUpdated,
                where=lambda _: any(e.correlation_id == envelope.id for e in recorder.envelopes),
                timeout=15,
            )
            assert (await router.get("web.router.test")).backend == "web"
        finally:
            nginx.terminate()
            await nginx.wait()


async def _status_is(router: RunningRouter, host: str, status: int) -> bool:
    return (await router.get(host)).status == status


async def test_snapshot_with_a_certificate_nginx_refuses_still_serves_everything_else(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    good, other = make_cert("good.example"), make_cert("bad.example")
    broken = CertBinding(name="bad", domain="bad.example", certificate=other.certificate, key=good.key)

    async def snapshot(_: SnapshotRequest) -> Snapshot:
        return Snapshot(
            apps=[
                AppSnapshot(
                    app="mixed",
                    domains=["good.example", "bad.example"],
                    certs=[
                        CertBinding(
                            name="good", domain="good.example", certificate=good.certificate, key=good.key
                        ),
                        broken,
                    ],
                )
            ]
        )

    sub = await bus.serve(SNAPSHOT_SUBJECT, SnapshotRequest, snapshot, queue="controller")
    try:

        async def served() -> bool:
            try:
                secure = await fetch(router.https_port, "good.example", tls=good.client_context())
            except OSError:
                return False
            return secure.status == 503 and await _status_is(router, "bad.example", 503)

        await eventually(served)
        with pytest.raises(ssl.SSLError):
            await fetch(router.https_port, "bad.example", tls=other.client_context())
    finally:
        await sub.unsubscribe()


@pytest.mark.parametrize(
    "saved",
    [
        "{not json",
        '{"apps": {"web": {"name": "web", "domains": ["web.example"], "certs": {"web.example": '
        '{"name": "c", "domain": "web.example", "certificate": "junk", "key": "junk"}}}}}',
    ],
    ids=["unreadable", "refused-by-nginx"],
)
async def test_a_saved_table_that_cannot_be_served_does_not_keep_the_router_down(
    nats_url: str, tmp_path: Path, bus: Bus, recorder: EventRecorder, saved: str
) -> None:
    settings = router_settings(nats_url, tmp_path / "router")
    settings.router.prefix.mkdir(parents=True)
    (settings.router.prefix / "routes.json").write_text(saved)

    async with build(settings).running() as service, backend("web") as endpoint:
        router = RunningRouter(service, settings)
        assert (await router.get("web.example")).status == 404
        event = ContainersHealthy(app="web", generation=1, version=1, endpoints=[endpoint])
        await publish_and_wait(bus, recorder, event, RoutesUpdated)
        assert (await router.get("web.router.test")).backend == "web"


async def test_bootstrap_config_serves_the_saved_routes_before_router_sync_runs(
    nats_url: str, tmp_path: Path, bus: Bus, recorder: EventRecorder
) -> None:
    settings = router_settings(nats_url, tmp_path / "router")
    async with backend("web") as endpoint:
        async with build(settings).running():
            event = ContainersHealthy(app="web", generation=1, version=1, endpoints=[endpoint])
            await publish_and_wait(bus, recorder, event, RoutesUpdated)

        assert await write_bootstrap(settings, force=True) == settings.router.prefix / "nginx.conf"
        nginx = await asyncio.create_subprocess_exec(
            str(nginx_binary(settings.router)),
            "-p",
            str(settings.router.prefix),
            "-c",
            "nginx.conf",
            "-g",
            "daemon off;",
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:

            async def served() -> bool:
                try:
                    return (await fetch(settings.router.http_port, "web.router.test")).backend == "web"
                except OSError:
                    return False

            await eventually(served)
        finally:
            nginx.terminate()
            await nginx.wait()


async def test_routes_changed_while_nginx_was_down_are_served_once_it_is_back(
    nats_url: str, tmp_path: Path, bus: Bus, recorder: EventRecorder
) -> None:
    settings = router_settings(nats_url, tmp_path / "router", start_nginx=False)
    await write_bootstrap(settings)

    async def start_nginx() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            str(nginx_binary(settings.router)),
            "-p",
            str(settings.router.prefix),
            "-c",
            "nginx.conf",
            "-g",
            "daemon off;",
            stderr=asyncio.subprocess.DEVNULL,
        )

    nginx = await start_nginx()
    async with build(settings).running() as service, backend("v1") as v1, backend("v2") as v2:
        router = RunningRouter(service, settings)
        try:
            first = ContainersHealthy(app="web", generation=1, version=1, endpoints=[v1])
            await publish_and_wait(bus, recorder, first, RoutesUpdated)

            nginx.terminate()
            await nginx.wait()
            second = await bus.publish(ContainersHealthy(app="web", generation=2, version=2, endpoints=[v2]))

            async def reload_failed() -> bool:
                return await router.metric('deis_router_reloads_total{outcome="failed"}') >= 1

            await eventually(reload_failed)
            nginx = await start_nginx()

            await recorder.wait_for(
                RoutesUpdated,
                where=lambda _: any(e.correlation_id == second.id for e in recorder.envelopes),
                timeout=20,
            )
            assert (await router.get("web.router.test")).backend == "v2"
        finally:
            nginx.terminate()
            await nginx.wait()
