"""Custom domains and wildcards route to their app; a removed domain, or a destroyed app, is a 404."""

from __future__ import annotations

import asyncio

from deis_common.bus import Bus
from deis_common.events.apps import AppDestroyed
from deis_common.events.containers import ContainersHealthy
from deis_common.events.domains import DomainAdded, DomainRemoved
from deis_common.events.routes import RoutesUpdated
from deis_common.testing.recorder import EventRecorder
from tests.router_sync.router_harness import RunningRouter, backend, publish_and_wait


async def serve(bus: Bus, recorder: EventRecorder, app: str, endpoint: str) -> None:
    event = ContainersHealthy(app=app, generation=1, version=1, endpoints=[endpoint])
    await publish_and_wait(bus, recorder, event, RoutesUpdated)


async def test_custom_domain_is_served_once_added_and_404_once_removed(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("shop") as endpoint:
        await serve(bus, recorder, "shop", endpoint)
        assert (await router.get("www.shop.example")).status == 404

        added = await publish_and_wait(
            bus, recorder, DomainAdded(app="shop", domain="www.shop.example"), RoutesUpdated
        )
        assert (added.app, added.generation, added.endpoints) == ("shop", 1, [endpoint])
        response = await router.get("www.shop.example")
        assert (response.status, response.backend) == (200, "shop")
        assert (await router.get("shop.router.test")).status == 200

        await publish_and_wait(
            bus, recorder, DomainRemoved(app="shop", domain="www.shop.example"), RoutesUpdated
        )
        assert (await router.get("www.shop.example")).status == 404
        assert (await router.get("shop.router.test")).status == 200


async def test_wildcard_domain_serves_every_subdomain_but_not_the_bare_domain(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("tenants") as endpoint:
        await serve(bus, recorder, "tenants", endpoint)
        await publish_and_wait(
            bus, recorder, DomainAdded(app="tenants", domain="*.tenants.example"), RoutesUpdated
        )

        for host in ("acme.tenants.example", "a.b.tenants.example"):
            response = await router.get(host)
            assert (response.status, response.backend) == (200, "tenants")
        assert (await router.get("tenants.example")).status == 404


async def test_a_domain_without_a_dot_is_a_subdomain_of_the_platform_domain(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("blog") as endpoint:
        await serve(bus, recorder, "blog", endpoint)
        await publish_and_wait(bus, recorder, DomainAdded(app="blog", domain="news"), RoutesUpdated)

        response = await router.get("news.router.test")
        assert (response.status, response.backend) == (200, "blog")


async def test_domain_is_routed_even_before_the_app_has_processes(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    await publish_and_wait(bus, recorder, DomainAdded(app="early", domain="early.example"), RoutesUpdated)

    assert (await router.get("early.example")).status == 503


async def test_each_app_keeps_its_own_domains(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("one") as one, backend("two") as two:
        await serve(bus, recorder, "one", one)
        await serve(bus, recorder, "two", two)
        await publish_and_wait(bus, recorder, DomainAdded(app="one", domain="one.example"), RoutesUpdated)
        await publish_and_wait(bus, recorder, DomainAdded(app="two", domain="two.example"), RoutesUpdated)

        assert (await router.get("one.example")).backend == "one"
        assert (await router.get("two.example")).backend == "two"


async def test_destroyed_app_is_no_longer_served(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("gone") as endpoint:
        await serve(bus, recorder, "gone", endpoint)
        await publish_and_wait(bus, recorder, DomainAdded(app="gone", domain="gone.example"), RoutesUpdated)

        await bus.publish(AppDestroyed(app="gone"))

        async def both_404() -> None:
            while not all(
                [(await router.get(h)).status == 404 for h in ("gone.router.test", "gone.example")]
            ):
                await asyncio.sleep(0.02)  # polling nginx: AppDestroyed is answered by no event

        await asyncio.wait_for(both_404(), timeout=10)
