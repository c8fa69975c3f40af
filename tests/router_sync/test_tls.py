"""Certificates are served by SNI for their domains; https-only redirects and HSTS; bad certs are refused."""

from __future__ import annotations

import ssl

import pytest

from deis_common.bus import Bus
from deis_common.events.apps import SettingsChanged
from deis_common.events.certs import CertAttached, CertDetached
from deis_common.events.containers import ContainersHealthy
from deis_common.events.domains import DomainAdded
from deis_common.events.routes import RoutesRejected, RoutesUpdated
from deis_common.events.state import RouteSettings
from deis_common.testing.recorder import EventRecorder
from tests.router_sync.router_harness import (
    Cert,
    Response,
    RunningRouter,
    backend,
    common_name,
    fetch,
    make_cert,
    publish_and_wait,
)


async def serve(bus: Bus, recorder: EventRecorder, app: str, endpoint: str, *domains: str) -> None:
    event = ContainersHealthy(app=app, generation=1, version=1, endpoints=[endpoint])
    await publish_and_wait(bus, recorder, event, RoutesUpdated)
    for domain in domains:
        await publish_and_wait(bus, recorder, DomainAdded(app=app, domain=domain), RoutesUpdated)


async def attach(bus: Bus, recorder: EventRecorder, app: str, cert: Cert, name: str = "cert") -> None:
    event = CertAttached(
        app=app, name=name, domain=cert.common_name, certificate=cert.certificate, key=cert.key
    )
    await publish_and_wait(bus, recorder, event, RoutesUpdated)


async def https_get(router: RunningRouter, host: str, cert: Cert, path: str = "/") -> Response:
    return await fetch(router.https_port, host, path, tls=cert.client_context())


async def test_certificate_is_served_for_its_domain(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    cert = make_cert("secure.example")
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint, "secure.example")
        await attach(bus, recorder, "secure", cert)

        response = await https_get(router, "secure.example", cert)
        assert common_name(response.peer_cert) == "secure.example"
        assert (response.status, response.backend) == (200, "secure")
        assert response.json()["headers"]["X-Forwarded-Proto"] == "https"

        stored = sorted((router.prefix / "certs").iterdir())
        assert [p.suffix for p in stored] == [".crt", ".key"]
        assert {p.stat().st_mode & 0o777 for p in stored} == {0o600}
        assert (router.prefix / "certs").stat().st_mode & 0o777 == 0o700


async def test_each_domain_gets_its_own_certificate_by_sni(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    first, second = make_cert("one.example"), make_cert("two.example")
    async with backend("multi") as endpoint:
        await serve(bus, recorder, "multi", endpoint, "one.example", "two.example")
        await attach(bus, recorder, "multi", first, "first")
        await attach(bus, recorder, "multi", second, "second")

        assert common_name((await https_get(router, "one.example", first)).peer_cert) == "one.example"
        assert common_name((await https_get(router, "two.example", second)).peer_cert) == "two.example"


async def test_tls_handshake_for_a_host_without_certificate_is_refused(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    cert = make_cert("secure.example")
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint, "secure.example", "plain.example")
        await attach(bus, recorder, "secure", cert)

        with pytest.raises(ssl.SSLError):
            await fetch(router.https_port, "plain.example", tls=ssl._create_unverified_context())


async def test_detached_certificate_is_no_longer_served(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    cert = make_cert("secure.example")
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint, "secure.example")
        await attach(bus, recorder, "secure", cert)
        assert (await https_get(router, "secure.example", cert)).status == 200

        await publish_and_wait(
            bus, recorder, CertDetached(app="secure", name="cert", domain="secure.example"), RoutesUpdated
        )
        with pytest.raises(ssl.SSLError):
            await https_get(router, "secure.example", cert)
        assert (await router.get("secure.example")).status == 200


async def test_https_only_app_redirects_http_to_https_keeping_the_router_port(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    cert = make_cert("secure.example")
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint, "secure.example")
        await attach(bus, recorder, "secure", cert)
        settings = SettingsChanged(app="secure", routing=RouteSettings(https_enforced=True))
        await publish_and_wait(bus, recorder, settings, RoutesUpdated)

        response = await router.get(f"secure.example:{router.http_port}", "/cart?item=1")
        assert response.status == 301
        assert response.headers["location"] == f"https://secure.example:{router.https_port}/cart?item=1"
        assert (await https_get(router, "secure.example", cert)).status == 200


async def test_https_only_app_trusts_x_forwarded_proto_from_a_tls_proxy(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint)
        settings = SettingsChanged(app="secure", routing=RouteSettings(https_enforced=True))
        await publish_and_wait(bus, recorder, settings, RoutesUpdated)

        assert (await router.get("secure.router.test")).status == 301
        proxied = await router.get("secure.router.test", headers={"X-Forwarded-Proto": "https"})
        assert (proxied.status, proxied.backend) == (200, "secure")


@pytest.mark.parametrize("router_options", [{"redirect_https_port": 443}])
async def test_redirect_to_the_standard_https_port_leaves_the_port_out(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint)
        settings = SettingsChanged(app="secure", routing=RouteSettings(https_enforced=True))
        await publish_and_wait(bus, recorder, settings, RoutesUpdated)

        response = await router.get(f"secure.router.test:{router.http_port}", "/x")
        assert response.headers["location"] == "https://secure.router.test/x"


@pytest.mark.parametrize("router_options", [{"hsts": True}])
async def test_hsts_sends_the_header_on_https_and_redirects_every_app(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    cert = make_cert("secure.example")
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint, "secure.example")
        await attach(bus, recorder, "secure", cert)

        assert (await router.get("secure.example")).status == 301
        response = await https_get(router, "secure.example", cert)
        assert response.status == 200
        assert response.headers["strict-transport-security"] == (
            "max-age=10886400; includeSubDomains; preload"
        )


async def test_certificate_with_a_key_that_does_not_match_is_rejected_and_traffic_keeps_flowing(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    good = make_cert("secure.example")
    other = make_cert("broken.example")
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint, "secure.example", "broken.example")
        await attach(bus, recorder, "secure", good)

        mismatched = CertAttached(
            app="secure",
            name="broken",
            domain="broken.example",
            certificate=other.certificate,
            key=make_cert("broken.example").key,
        )
        rejected = await publish_and_wait(bus, recorder, mismatched, RoutesRejected)
        assert rejected.app == "secure"
        assert "key values mismatch" in rejected.reason
        assert "PRIVATE KEY-----" not in rejected.reason

        assert (await router.get("secure.example")).backend == "secure"
        assert (await https_get(router, "secure.example", good)).status == 200
        with pytest.raises(ssl.SSLError):
            await https_get(router, "broken.example", other)

        # Later changes still go through.
        await publish_and_wait(bus, recorder, DomainAdded(app="secure", domain="more.example"), RoutesUpdated)
        assert (await router.get("more.example")).backend == "secure"


async def test_certificate_that_is_not_pem_is_rejected(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint, "secure.example")
        garbage = CertAttached(
            app="secure", name="junk", domain="secure.example", certificate="not a cert", key="nor a key"
        )
        rejected = await publish_and_wait(bus, recorder, garbage, RoutesRejected)

        assert rejected.app == "secure"
        assert (await router.get("secure.example")).status == 200


async def test_routes_listing_shows_what_is_served_but_never_certificate_material(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    cert = make_cert("secure.example")
    async with backend("secure") as endpoint:
        await serve(bus, recorder, "secure", endpoint, "secure.example")
        await attach(bus, recorder, "secure", cert)

        listing = await fetch(router.service.port or 0, "127.0.0.1", "/routes")
        assert listing.json()["apps"]["secure"] == {
            "generation": 1,
            "endpoints": [endpoint],
            "hosts": ["secure.router.test", "secure.example"],
            "tls": ["secure.example"],
            "routing": {"routable": True, "maintenance": False, "whitelist": [], "https_enforced": False},
        }
        assert listing.json()["ready"] is True
        assert b"PRIVATE KEY" not in listing.body and b"CERTIFICATE" not in listing.body
