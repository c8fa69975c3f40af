"""Per-app access rules: whitelist (403), maintenance (503), routing off (404), body size limit (413)."""

from __future__ import annotations

import asyncio

import pytest

from deis_common.bus import Bus
from deis_common.events.apps import SettingsChanged
from deis_common.events.containers import ContainersHealthy
from deis_common.events.routes import RoutesRejected, RoutesUpdated
from deis_common.events.state import RouteSettings
from deis_common.testing.recorder import EventRecorder
from tests.router_sync.router_harness import RunningRouter, backend, publish_and_wait


async def serve(bus: Bus, recorder: EventRecorder, app: str, endpoint: str) -> None:
    event = ContainersHealthy(app=app, generation=1, version=1, endpoints=[endpoint])
    await publish_and_wait(bus, recorder, event, RoutesUpdated)


async def settings(bus: Bus, recorder: EventRecorder, app: str, **routing: object) -> None:
    event = SettingsChanged(app=app, routing=RouteSettings(**routing))
    await publish_and_wait(bus, recorder, event, RoutesUpdated)


async def test_whitelist_lets_listed_networks_in_and_keeps_others_out(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("intranet") as endpoint:
        await serve(bus, recorder, "intranet", endpoint)

        await settings(bus, recorder, "intranet", whitelist=["10.0.0.0/8", "192.168.1.7"])
        denied = await router.get("intranet.router.test")
        assert denied.status == 403

        await settings(bus, recorder, "intranet", whitelist=["10.0.0.0/8", "127.0.0.0/8"])
        allowed = await router.get("intranet.router.test")
        assert (allowed.status, allowed.backend) == (200, "intranet")

        await settings(bus, recorder, "intranet", whitelist=["127.0.0.1"])
        assert (await router.get("intranet.router.test")).status == 200

        await settings(bus, recorder, "intranet", whitelist=[])
        assert (await router.get("intranet.router.test")).status == 200


async def test_whitelist_of_one_app_does_not_affect_another(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("closed") as closed, backend("open") as opened:
        await serve(bus, recorder, "closed", closed)
        await serve(bus, recorder, "open", opened)
        await settings(bus, recorder, "closed", whitelist=["10.0.0.0/8"])

        assert (await router.get("closed.router.test")).status == 403
        assert (await router.get("open.router.test")).status == 200


async def test_whitelist_entry_that_is_no_address_is_rejected(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    event = SettingsChanged(app="web", routing=RouteSettings(whitelist=["10.0.0.0/8; deny all"]))
    rejected = await publish_and_wait(bus, recorder, event, RoutesRejected)

    assert "not an address or CIDR" in rejected.reason


async def test_maintenance_mode_shows_a_503_page_until_switched_off(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("shop") as endpoint:
        await serve(bus, recorder, "shop", endpoint)

        await settings(bus, recorder, "shop", maintenance=True)
        page = await router.get("shop.router.test", "/checkout")
        assert page.status == 503
        assert page.headers["content-type"].startswith("text/html")
        assert b"maintenance" in page.body

        await settings(bus, recorder, "shop", maintenance=False)
        back = await router.get("shop.router.test", "/checkout")
        assert (back.status, back.backend) == (200, "shop")


async def test_routing_off_answers_404_until_switched_back_on(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("worker") as endpoint:
        await serve(bus, recorder, "worker", endpoint)

        await settings(bus, recorder, "worker", routable=False)
        assert (await router.get("worker.router.test")).status == 404

        await settings(bus, recorder, "worker", routable=True)
        assert (await router.get("worker.router.test")).status == 200


@pytest.mark.parametrize("router_options", [{"body_size": "16k"}])
async def test_request_body_over_the_limit_is_refused_with_413(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("upload") as endpoint:
        await serve(bus, recorder, "upload", endpoint)

        small = await router.get("upload.router.test", method="POST", body=b"x" * 8 * 1024)
        assert (small.status, small.json()["body_bytes"]) == (200, 8 * 1024)
        big = await router.get("upload.router.test", method="POST", body=b"x" * 64 * 1024)
        assert big.status == 413


@pytest.mark.parametrize("router_options", [{"access_log_buffer": ""}])
async def test_access_log_records_host_status_and_request_time(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web") as endpoint:
        await serve(bus, recorder, "web", endpoint)
        await router.get("web.router.test", "/logged")

    log = router.prefix / "logs" / "access.log"

    async def logged() -> str:
        while not (lines := [line for line in log.read_text().splitlines() if "/logged" in line]):
            await asyncio.sleep(0.01)  # nginx writes the line just after answering
        return lines[0]

    fields = (await asyncio.wait_for(logged(), timeout=5)).split('"')
    assert fields[1] == "web.router.test"
    status, _size, request_time, upstream_time, upstream = fields[4].split()
    assert status == "200"
    assert float(request_time) >= 0 and float(upstream_time) >= 0
    assert upstream == endpoint


@pytest.mark.parametrize("router_options", [{"default_whitelist": ["10.0.0.0/8"]}])
async def test_router_default_whitelist_applies_to_every_app_and_app_entries_extend_it(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web") as endpoint:
        await serve(bus, recorder, "web", endpoint)
        assert (await router.get("web.router.test")).status == 403

        await settings(bus, recorder, "web", whitelist=["127.0.0.1"])
        assert (await router.get("web.router.test")).status == 200


@pytest.mark.parametrize(
    "router_options", [{"default_whitelist": ["127.0.0.0/8"], "whitelist_mode": "override"}]
)
async def test_in_override_mode_an_app_whitelist_replaces_the_default(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("web") as endpoint:
        await serve(bus, recorder, "web", endpoint)
        assert (await router.get("web.router.test")).status == 200

        await settings(bus, recorder, "web", whitelist=["10.0.0.0/8"])
        assert (await router.get("web.router.test")).status == 403
