"""With a platform certificate (*.<platform domain>), every app's default host and the API answer https."""

from __future__ import annotations

from pathlib import Path

import pytest

from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.routes import RoutesUpdated
from deis_common.testing.recorder import EventRecorder
from tests.router_sync.router_harness import (
    Cert,
    RunningRouter,
    backend,
    common_name,
    fetch,
    make_cert,
    publish_and_wait,
)


@pytest.fixture
def platform_cert() -> Cert:
    return make_cert("*.router.test")


@pytest.fixture
def router_options(tmp_path: Path, platform_cert: Cert) -> dict[str, object]:
    crt, key = tmp_path / "platform.crt", tmp_path / "platform.key"
    crt.write_text(platform_cert.certificate)
    key.write_text(platform_cert.key)
    return {"platform_cert": crt, "platform_key": key}


async def test_default_app_host_is_served_over_https_with_the_platform_certificate(
    router: RunningRouter, bus: Bus, recorder: EventRecorder, platform_cert: Cert
) -> None:
    async with backend("web") as endpoint:
        event = ContainersHealthy(app="web", generation=1, version=1, endpoints=[endpoint])
        await publish_and_wait(bus, recorder, event, RoutesUpdated)

        response = await fetch(router.https_port, "web.router.test", tls=platform_cert.client_context())
        assert (response.status, response.backend) == (200, "web")
        assert common_name(response.peer_cert) == "*.router.test"


async def test_platform_api_is_served_over_https_with_the_platform_certificate(
    router: RunningRouter, platform_cert: Cert
) -> None:
    async with backend("controller", port=router.settings.router.controller_port):
        response = await fetch(
            router.https_port, "deis.router.test", "/v2/", tls=platform_cert.client_context()
        )

        assert (response.status, response.backend) == (200, "controller")
        assert response.json()["headers"]["X-Forwarded-Proto"] == "https"
