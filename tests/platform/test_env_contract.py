"""The environment contract: what each service is told about the platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from deis_platform.env_contract import SERVICES, ContractInputs, service_environment
from deis_platform.pgauth import DatabasePasswords
from deis_platform.ports import DEFAULT_PORTS

PASSWORDS = DatabasePasswords(superuser="super-pw", controller="controller-pw", backup="backup-pw")
INPUTS = ContractInputs(
    data_dir=Path("/data"),
    ports={**DEFAULT_PORTS, "nats": 41000, "postgres": 42000},
    domain="example.test",
    builder_key="k3y",
    database_passwords=PASSWORDS,
)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_gets_the_common_settings(service: str) -> None:
    env = service_environment(service, INPUTS)

    assert env["DEIS_NATS__URL"] == "nats://127.0.0.1:41000"
    assert env["DEIS_HTTP__HOST"] == "127.0.0.1"
    assert env["DEIS_STORE__DRIVER"] == "fs"
    assert env["DEIS_STORE__PATH"] == "/data/store"
    assert env["DEIS_PLATFORM_DOMAIN"] == "example.test"
    assert env["DEIS_CONTROLLER_URL"] == "http://127.0.0.1:8000"
    assert env["DEIS_BUILDER_KEY"] == "k3y"
    assert env["DEIS_LOG_JSON"] == "true"
    assert env["DEIS_ROUTER_PORT"] == "8080"
    assert all(key.startswith("DEIS_") for key in env)


def test_each_service_serves_health_on_its_own_port() -> None:
    ports = {s: service_environment(s, INPUTS)["DEIS_HTTP__PORT"] for s in SERVICES}

    assert ports == {
        "controller": "8000",
        "builder": "8092",
        "scheduler": "8093",
        "router-sync": "8094",
        "backup": "8095",
    }


def test_only_the_controller_and_backup_reach_the_database_each_with_a_role_of_its_own() -> None:
    with_db = {s for s in SERVICES if "DEIS_DATABASE__URL" in service_environment(s, INPUTS)}
    controller = service_environment("controller", INPUTS)
    backup = service_environment("backup", INPUTS)

    assert with_db == {"controller", "backup"}
    assert controller["DEIS_DATABASE__URL"] == "postgresql://deis@127.0.0.1:42000/deis"
    assert controller["DEIS_DATABASE__PASSWORD"] == "controller-pw"
    assert backup["DEIS_DATABASE__URL"] == "postgresql://deis_backup@127.0.0.1:42000/deis"
    assert backup["DEIS_DATABASE__PASSWORD"] == "backup-pw"


def test_no_service_gets_the_superuser_password() -> None:
    for service in SERVICES:
        assert "super-pw" not in service_environment(service, INPUTS).values(), service


def test_router_sync_knows_the_nginx_prefix_and_ports() -> None:
    env = service_environment("router-sync", INPUTS)

    assert env["DEIS_ROUTER__PREFIX"] == "/data/router"
    assert (env["DEIS_ROUTER__HTTP_PORT"], env["DEIS_ROUTER__HTTPS_PORT"]) == ("8080", "8443")
    assert env["DEIS_ROUTER__CONTROLLER_PORT"] == "8000"


def test_builder_and_scheduler_get_their_data_dirs() -> None:
    builder = service_environment("builder", INPUTS)
    scheduler = service_environment("scheduler", INPUTS)

    assert (builder["DEIS_SSH__PORT"], builder["DEIS_BUILDER__DATA_DIR"]) == ("2222", "/data/builder")
    assert (scheduler["DEIS_SCHEDULER__BACKEND"], scheduler["DEIS_SCHEDULER__DATA_DIR"]) == (
        "local",
        "/data/scheduler",
    )


def test_the_controller_advertises_the_builder_on_its_actual_ssh_port() -> None:
    moved = ContractInputs(**{**INPUTS.__dict__, "ports": {**INPUTS.ports, "builder_ssh": 42222}})
    assert service_environment("controller", moved)["DEIS_BUILDER_URL"] == "ssh://git@127.0.0.1:42222"


def test_the_controller_is_told_who_may_register() -> None:
    assert service_environment("controller", INPUTS)["DEIS_REGISTRATION_MODE"] == "admin_only"
    opened = ContractInputs(**{**INPUTS.__dict__, "registration_mode": "enabled"})
    assert service_environment("controller", opened)["DEIS_REGISTRATION_MODE"] == "enabled"
    others = [s for s in SERVICES if s != "controller"]
    assert all("DEIS_REGISTRATION_MODE" not in service_environment(s, INPUTS) for s in others)
