"""The platform's components as data: what runs, in which order, on which ports, and how it is checked.

A component is one supervisord program: a name, a command, an environment, the ports it listens on and a
health check. The launcher starts components stage by stage (NATS → Postgres → nginx → the services)
and waits for a stage to be healthy before the next, because each stage's programs connect to the previous
ones at start. Adding a service is adding a row here; nothing else in the launcher knows service names.

This module builds descriptions only; it does not start, stop or probe anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from deis_common import pgserver
from deis_platform import executables, nginx, postgres
from deis_platform.env_contract import SERVICE_HTTP_PORT_ROLE, SERVICES, ContractInputs, service_environment
from deis_platform.layout import Layout
from deis_platform.ports import HOST


class Check(Enum):
    """How a component proves it is healthy."""

    HTTP_200 = "http-200"  # GET http://127.0.0.1:<port><path> answers 200
    HTTP_ANY = "http-any"  # any HTTP answer (nginx's bootstrap config answers 404)
    POSTGRES = "postgres"  # pg_isready


@dataclass(frozen=True)
class HealthCheck:
    check: Check
    port: int
    path: str = "/healthz"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{self.path}"

    def describe(self) -> str:
        return "pg_isready" if self.check is Check.POSTGRES else self.url


@dataclass(frozen=True)
class Component:
    """One supervisord program."""

    name: str
    stage: int  # started after every lower stage is healthy; also supervisord's priority
    command: list[str]
    ports: dict[str, int]  # label shown by `status` → port
    health: HealthCheck
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None  # run as this OS user (supervisord must be root)
    stop_signal: str = "TERM"
    stop_wait_seconds: int = 15


STAGE_NATS, STAGE_POSTGRES, STAGE_ROUTER, STAGE_SERVICES = 10, 20, 30, 100


def build(layout: Layout, inputs: ContractInputs, *, archive: bool) -> list[Component]:
    """Every component of the platform, in start order."""
    ports = inputs.ports
    return [
        Component(
            name="nats",
            stage=STAGE_NATS,
            command=[
                executables.nats_server(),
                # the users and their permissions (deis_common.natsauth); no anonymous clients
                "--config",
                str(layout.nats_config),
                "--addr",
                HOST,
                "--port",
                str(ports["nats"]),
                "--http_port",
                str(ports["nats_monitor"]),
                "--jetstream",
                "--store_dir",
                str(layout.nats_dir),
                "--server_name",
                "deis-platform",
            ],
            ports={"client": ports["nats"], "monitor": ports["nats_monitor"]},
            health=HealthCheck(Check.HTTP_200, ports["nats_monitor"], "/healthz?js-enabled-only=true"),
        ),
        Component(
            name="postgres",
            stage=STAGE_POSTGRES,
            command=postgres.server_command(layout.pgdata, ports["postgres"]),
            ports={"sql": ports["postgres"]},
            health=HealthCheck(Check.POSTGRES, ports["postgres"]),
            # archive_command runs `deis-backup wal-push` inside the server: it needs the backup's store
            # settings, not its database or NATS login.
            env=_archive_environment(inputs) if archive else {},
            user=pgserver.server_user(),
            stop_signal="INT",  # "fast" shutdown: TERM would wait for every client to disconnect
        ),
        Component(
            name="router",
            stage=STAGE_ROUTER,
            command=nginx.server_command(executables.nginx(), layout.router_prefix),
            ports={"http": ports["router_http"], "https": ports["router_https"]},
            health=HealthCheck(Check.HTTP_ANY, ports["router_http"], "/"),
            stop_signal="QUIT",  # graceful: finish in-flight requests
        ),
        *(_service(name, inputs) for name in SERVICES),
    ]


def _archive_environment(inputs: ContractInputs) -> dict[str, str]:
    env = service_environment("backup", inputs)
    return {
        key: value for key, value in env.items() if not key.startswith(("DEIS_DATABASE__", "DEIS_NATS__"))
    }


def _service(name: str, inputs: ContractInputs) -> Component:
    http_port = inputs.ports[SERVICE_HTTP_PORT_ROLE[name]]
    shown = {"api" if name == "controller" else "health": http_port}
    if name == "builder":
        shown = {"ssh": inputs.ports["builder_ssh"], **shown}
    return Component(
        name=name,
        stage=STAGE_SERVICES,
        command=[executables.console_script(f"deis-{name}")],
        ports=shown,
        health=HealthCheck(Check.HTTP_200, http_port),
        env=service_environment(name, inputs),
    )


def stages(components: list[Component]) -> list[list[Component]]:
    """Components grouped by stage, lowest stage first."""
    grouped: dict[int, list[Component]] = {}
    for component in components:
        grouped.setdefault(component.stage, []).append(component)
    return [grouped[stage] for stage in sorted(grouped)]
