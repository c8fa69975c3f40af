"""An app is served at <app>.<platform domain> once its containers are healthy; everything else 404/503."""

from __future__ import annotations

import aiohttp

from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.routes import RoutesUpdated
from deis_common.testing.recorder import EventRecorder
from tests.router_sync.router_harness import RunningRouter, backend, publish_and_wait


async def healthy(
    bus: Bus, recorder: EventRecorder, app: str, generation: int, endpoints: list[str]
) -> RoutesUpdated:
    event = ContainersHealthy(app=app, generation=generation, version=generation, endpoints=endpoints)
    return await publish_and_wait(bus, recorder, event, RoutesUpdated)


async def test_app_is_served_at_its_default_host_once_its_containers_are_healthy(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web-v1") as endpoint:
        updated = await healthy(bus, recorder, "web", 1, [endpoint])

        assert (updated.app, updated.generation, updated.endpoints) == ("web", 1, [endpoint])
        response = await router.get("web.router.test")
        assert response.status == 200
        assert response.backend == "web-v1"


async def test_host_matching_ignores_the_port_and_letter_case(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web-v1") as endpoint:
        await healthy(bus, recorder, "web", 1, [endpoint])

        response = await router.get(f"WEB.Router.Test:{router.http_port}")
        assert response.status == 200
        assert response.backend == "web-v1"


async def test_the_app_sees_the_original_host_and_forwarding_headers(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web-v1") as endpoint:
        await healthy(bus, recorder, "web", 1, [endpoint])

        seen = (await router.get(f"web.router.test:{router.http_port}", "/a/b?c=d")).json()
        assert seen["path"] == "/a/b?c=d"
        assert seen["headers"]["Host"] == f"web.router.test:{router.http_port}"
        assert seen["headers"]["X-Forwarded-Proto"] == "http"
        assert seen["headers"]["X-Forwarded-For"] == "127.0.0.1"


async def test_unknown_host_gets_404(router: RunningRouter, bus: Bus, recorder: EventRecorder) -> None:
    async with backend("web-v1") as endpoint:
        await healthy(bus, recorder, "web", 1, [endpoint])

        assert (await router.get("nope.router.test")).status == 404
        assert (await router.get("web.elsewhere.test")).status == 404


async def test_app_without_running_processes_gets_503_and_routes_are_still_confirmed(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    updated = await healthy(bus, recorder, "idle", 1, [])

    assert (updated.generation, updated.endpoints) == (1, [])
    assert (await router.get("idle.router.test")).status == 503


async def test_scaling_to_zero_turns_200_into_503(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web-v1") as endpoint:
        await healthy(bus, recorder, "web", 1, [endpoint])
        assert (await router.get("web.router.test")).status == 200

        await healthy(bus, recorder, "web", 2, [])
        assert (await router.get("web.router.test")).status == 503


async def test_a_new_generation_replaces_the_endpoints_and_an_older_one_changes_nothing(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web-v1") as old, backend("web-v2") as new:
        await healthy(bus, recorder, "web", 1, [old])
        updated = await healthy(bus, recorder, "web", 2, [new])
        assert updated.endpoints == [new]
        assert (await router.get("web.router.test")).backend == "web-v2"

        late = await healthy(bus, recorder, "web", 1, [old])
        assert late.endpoints == [new]
        assert (await router.get("web.router.test")).backend == "web-v2"


async def test_requests_spread_over_every_healthy_endpoint(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("a") as a, backend("b") as b:
        await healthy(bus, recorder, "web", 1, [a, b])

        seen = {(await router.get("web.router.test")).backend for _ in range(6)}
        assert seen == {"a", "b"}


async def test_platform_api_is_reached_at_the_deis_host(router: RunningRouter) -> None:
    async with backend("controller", port=router.settings.router.controller_port):
        response = await router.get(f"deis.router.test:{router.http_port}", "/v2/")

        assert response.status == 200
        assert response.backend == "controller"
        assert response.json()["path"] == "/v2/"


async def test_websocket_connections_are_proxied_to_the_app(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("chat") as endpoint:
        await healthy(bus, recorder, "chat", 1, [endpoint])

        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(
                f"http://127.0.0.1:{router.http_port}/ws", headers={"Host": "chat.router.test"}
            ) as socket,
        ):
            await socket.send_str("hello")
            reply = await socket.receive(timeout=5)
            assert reply.data == "chat: hello"
