"""NATS in the chart: the same users and permissions as the embedded platform, passwords in a kept Secret,
each service connecting as its own user, and servers that refuse anonymous clients."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import helm_python as helm
import pytest
from pydantic import SecretStr

from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.natsauth import INTEGRATIONS_USER, USERS, permissions_document
from deis_common.settings import NatsSettings
from deis_common.testing.nats import nats_server_binary
from deis_common.testing.ports import free_port
from deis_platform.env_contract import SERVICES
from tests.deploy.chart import CHART_DIR, SERVICE_CONTAINERS, Rendered, env_of, render

AUTH_SECRET = "workflow-nats-auth"


def test_the_chart_carries_the_platforms_nats_permissions() -> None:
    shipped = json.loads((CHART_DIR / "files" / "nats-permissions.json").read_text())
    assert shipped == permissions_document(), (
        "regenerate: python -m deis_common.natsauth > deploy/helm/workflow/files/nats-permissions.json"
    )


def test_every_nats_user_gets_a_generated_password_kept_in_a_secret(default: Rendered) -> None:
    data = default.secret_data(AUTH_SECRET)
    for user in USERS:
        assert re.fullmatch(r"[A-Za-z0-9]{32}", data[f"{user}-password"]), user
    assert len({data[f"{user}-password"] for user in USERS}) == len(USERS)
    for user in USERS:
        assert f'"user":"{user}"' in data["auth.conf"]
        assert f'"password":"{data[f"{user}-password"]}"' in data["auth.conf"]
    assert "no_auth_user" not in data["auth.conf"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_connects_to_nats_as_its_own_user(default: Rendered, service: str) -> None:
    env = env_of(default.container(*SERVICE_CONTAINERS[service]))
    assert env["DEIS_NATS__USER"] == service
    assert env["DEIS_NATS__PASSWORD"] == ("secret", AUTH_SECRET, f"{service}-password")


def test_postgres_archives_without_a_nats_login(default: Rendered) -> None:
    pod = default.get("StatefulSet", "workflow-postgres")["spec"]["template"]["spec"]
    for container in pod.get("initContainers", []) + pod["containers"]:
        assert not any(name.startswith("DEIS_NATS__USER") for name in env_of(container)), container["name"]


def test_an_external_nats_gets_the_same_users(chart: helm.Chart) -> None:
    external = render(chart, {"nats": {"external": {"url": "nats://nats.example.com:4222"}}})
    assert external.find("StatefulSet", "workflow-nats") is None
    assert "authorization {" in external.secret_data(AUTH_SECRET)["auth.conf"]
    env = env_of(external.container(*SERVICE_CONTAINERS["scheduler"]))
    assert env["DEIS_NATS__PASSWORD"] == ("secret", AUTH_SECRET, "scheduler-password")


@pytest.fixture
def chart_nats(chart: helm.Chart, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A nats-server running the chart's rendered config (one replica), laid out as in the pod."""
    rendered = render(chart, {"nats": {"replicas": 1}})
    port = free_port()
    config = rendered.get("ConfigMap", "workflow-nats")["data"]["nats.conf"]
    config = config.replace("/data", str(tmp_path)).replace("port: 4222", f"port: {port}")
    config = config.replace("http_port: 8222", f"http_port: {free_port()}")
    (tmp_path / "nats").mkdir()
    (tmp_path / "nats" / "nats.conf").write_text(config)
    data = rendered.secret_data(AUTH_SECRET)
    (tmp_path / "nats-auth").mkdir()
    (tmp_path / "nats-auth" / "auth.conf").write_text(data["auth.conf"])
    log = tmp_path / "nats.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [nats_server_binary(), "-c", str(tmp_path / "nats" / "nats.conf"), "-a", "127.0.0.1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"POD_NAME": "workflow-nats-0"},
        )
    try:
        deadline = time.monotonic() + 20
        while "Server is ready" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}", data
    finally:
        process.terminate()
        process.wait(10)


async def test_the_charts_nats_refuses_anonymous_clients_and_admits_each_service(
    chart_nats: tuple[str, dict[str, str]],
) -> None:
    url, data = chart_nats
    with pytest.raises(BusError, match="refuses anonymous connections"):
        await Bus.connect(NatsSettings(url=url), source="anonymous")
    for service in SERVICES:
        settings = NatsSettings(url=url, user=service, password=SecretStr(data[f"{service}-password"]))
        bus = await Bus.connect(settings, source=service)
        await bus.ensure_streams()
        await bus.close()
    integrations = NatsSettings(
        url=url, user=INTEGRATIONS_USER, password=SecretStr(data[f"{INTEGRATIONS_USER}-password"])
    )
    await (await Bus.connect(integrations, source="integration")).close()
