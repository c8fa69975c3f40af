"""The embedded platform's NATS: credentials generated once and kept private, each service told its own login,
and the nats component started with the generated users, so anonymous clients are refused."""

from __future__ import annotations

import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from deis_common import natsauth
from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.natsauth import INTEGRATIONS_USER, USERS, NatsCredentials
from deis_common.settings import NatsSettings
from deis_common.testing.ports import free_port
from deis_platform.components import Component
from deis_platform.env_contract import SERVICES, ContractInputs, service_environment
from deis_platform.launcher import Platform
from deis_platform.layout import Layout
from deis_platform.pgauth import DatabasePasswords
from deis_platform.ports import DEFAULT_PORTS
from deis_platform.state import PlatformState

CREDENTIALS = NatsCredentials.generate()
INPUTS = ContractInputs(
    data_dir=Path("/data"),
    ports=DEFAULT_PORTS,
    domain="example.test",
    builder_key="k3y",
    database_passwords=DatabasePasswords(superuser="s", controller="c", backup="b"),
    nats_credentials=CREDENTIALS,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_connects_as_its_own_nats_user(service: str) -> None:
    env = service_environment(service, INPUTS)
    assert env["DEIS_NATS__USER"] == service
    assert env["DEIS_NATS__PASSWORD"] == CREDENTIALS.password(service)
    others = {CREDENTIALS.password(user) for user in USERS if user != service}
    assert others.isdisjoint(env.values())


def test_the_nats_credentials_are_generated_once_and_readable_by_their_owner_only(tmp_path: Path) -> None:
    layout = Layout.at(tmp_path / "platform")
    layout.create()
    first = NatsCredentials.load_or_create(layout.nats_credentials)
    assert set(first.passwords) == set(USERS)
    assert mode(layout.nats_credentials) == 0o600
    assert NatsCredentials.load_or_create(layout.nats_credentials) == first
    assert "password" not in repr(first).replace("passwords=***", "")
    assert all(secret not in repr(first) for secret in first.passwords.values())


@pytest.fixture
def started_nats(tmp_path: Path) -> Iterator[tuple[dict[str, Component], Platform]]:
    """The nats component as `up` describes it, running, with the config `up` writes."""
    layout = Layout.at(tmp_path / "platform")
    layout.create()
    state = PlatformState(ports={role: free_port() for role in DEFAULT_PORTS})
    platform = Platform(layout)
    components = platform.components(state)
    nats = next(c for c in components if c.name == "nats")
    credentials = NatsCredentials.load_or_create(layout.nats_credentials)
    natsauth.write_config(layout.nats_config, credentials)
    assert mode(layout.nats_config) == 0o600
    log = tmp_path / "nats.log"
    with log.open("w") as out:
        process = subprocess.Popen(nats.command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while "Server is ready" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield {c.name: c for c in components}, platform
    finally:
        process.terminate()
        process.wait(10)


async def test_the_platforms_nats_refuses_anonymous_clients_and_admits_each_service(
    started_nats: tuple[dict[str, Component], Platform],
) -> None:
    components, platform = started_nats
    url = f"nats://127.0.0.1:{components['nats'].ports['client']}"
    with pytest.raises(BusError, match="refuses anonymous connections"):
        await Bus.connect(NatsSettings(url=url), source="anonymous")
    for service in SERVICES:
        env = components[service].env
        settings = NatsSettings(
            url=url, user=env["DEIS_NATS__USER"], password=SecretStr(env["DEIS_NATS__PASSWORD"])
        )
        bus = await Bus.connect(settings, source=service)
        await bus.ensure_streams()
        await bus.close()
    # Postgres runs `deis-backup wal-push` with the backup's store settings only: no NATS login
    assert not any(key.startswith("DEIS_NATS__") for key in components["postgres"].env)
    credentials = NatsCredentials.load_or_create(platform.layout.nats_credentials)
    integrations = NatsSettings(
        url=url, user=INTEGRATIONS_USER, password=SecretStr(credentials.password(INTEGRATIONS_USER))
    )
    await (await Bus.connect(integrations, source="integration")).close()
