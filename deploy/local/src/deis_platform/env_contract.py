"""The environment contract between the platform and its services: which ``DEIS_*`` variables each gets.

Services read their settings only from ``DEIS_``-prefixed environment variables (pydantic-settings,
``__`` for nesting; see ``deis_common.settings``). This module is the single place that decides those
variables for the embedded platform. The Helm chart (``deploy/helm``) mirrors the same table for the
cluster mode, so change both together: a variable added here and not there is a bug in one of them.

It must stay a pure function of its inputs: no I/O, no secrets generated here, nothing printed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deis_common.natsauth import NatsCredentials
from deis_platform.pgauth import BACKUP_ROLE, CONTROLLER_ROLE, DATABASE, DatabasePasswords
from deis_platform.ports import HOST

# Service name → the port role (see ports.DEFAULT_PORTS) of its /healthz endpoint. The controller
# serves /healthz on its API port.
SERVICE_HTTP_PORT_ROLE: dict[str, str] = {
    "controller": "controller",
    "builder": "builder",
    "scheduler": "scheduler",
    "router-sync": "router_sync",
    "backup": "backup",
}

SERVICES: tuple[str, ...] = tuple(SERVICE_HTTP_PORT_ROLE)


@dataclass(frozen=True)
class ContractInputs:
    """Everything the contract depends on."""

    data_dir: Path
    ports: Mapping[str, int]
    domain: str
    builder_key: str
    database_passwords: DatabasePasswords
    # each service's NATS password; None only where no server will check it (documentation, tests)
    nats_credentials: NatsCredentials | None = None
    # who may register (the controller's DEIS_REGISTRATION_MODE): Workflow's default, admin_only
    registration_mode: str = "admin_only"
    # the labels of the node apps run on (deis_platform.node); None: not known, any tags:set is accepted
    # (so is the chart: the controller cannot list a cluster's nodes and leaves placement to Kubernetes)
    node_labels: Mapping[str, str] | None = None

    def path(self, *parts: str) -> str:
        return str(self.data_dir.joinpath(*parts))


def nats_url(inputs: ContractInputs) -> str:
    return f"nats://{HOST}:{inputs.ports['nats']}"


def nats_login(service: str, inputs: ContractInputs) -> dict[str, str]:
    """The NATS user a service connects as (its own, see deis_common.natsauth) and its password."""
    credentials = inputs.nats_credentials
    return {
        "DEIS_NATS__USER": service,
        "DEIS_NATS__PASSWORD": credentials.password(service) if credentials is not None else "",
    }


def database_url(inputs: ContractInputs, role: str) -> str:
    """Where ``role`` connects; its password travels in ``DEIS_DATABASE__PASSWORD``, not in the URL."""
    return f"postgresql://{role}@{HOST}:{inputs.ports['postgres']}/{DATABASE}"


def controller_url(inputs: ContractInputs) -> str:
    return f"http://{HOST}:{inputs.ports['controller']}"


def common_environment(inputs: ContractInputs) -> dict[str, str]:
    """Variables every service gets (``deis_common.settings.ServiceSettings`` and friends)."""
    return {
        "DEIS_NATS__URL": nats_url(inputs),
        "DEIS_HTTP__HOST": HOST,
        "DEIS_STORE__DRIVER": "fs",
        "DEIS_STORE__PATH": inputs.path("store"),
        "DEIS_PLATFORM_DOMAIN": inputs.domain,
        "DEIS_CONTROLLER_URL": controller_url(inputs),
        "DEIS_BUILDER_KEY": inputs.builder_key,
        "DEIS_LOG_JSON": "true",
        "DEIS_ROUTER_PORT": str(inputs.ports["router_http"]),
    }


def _own_environment(service: str, inputs: ContractInputs) -> dict[str, str]:
    ports = inputs.ports
    match service:
        case "controller":
            # The controller advertises where `git push` goes, so `deis create` writes the right remote
            # even when the SSH port moved off its default.
            env = {
                "DEIS_DATABASE__URL": database_url(inputs, CONTROLLER_ROLE),
                "DEIS_DATABASE__PASSWORD": inputs.database_passwords.controller,
                "DEIS_BUILDER_URL": f"ssh://git@{HOST}:{ports['builder_ssh']}",
                "DEIS_REGISTRATION_MODE": inputs.registration_mode,
            }
            if inputs.node_labels is not None:  # tags:set is checked against them
                # kubelet's k=v,k2=v2 form: label syntax allows no commas, '=' in values or quotes
                env["DEIS_NODE_LABELS"] = ",".join(f"{k}={v}" for k, v in sorted(inputs.node_labels.items()))
            return env
        case "builder":
            return {
                "DEIS_SSH__PORT": str(ports["builder_ssh"]),
                "DEIS_BUILDER__DATA_DIR": inputs.path("builder"),
            }
        case "scheduler":
            return {
                "DEIS_SCHEDULER__BACKEND": "local",
                "DEIS_SCHEDULER__DATA_DIR": inputs.path("scheduler"),
                "DEIS_SCHEDULER__ROUTER_PORTS": json.dumps([ports["router_http"], ports["router_https"]]),
            }
        case "router-sync":
            return {
                "DEIS_ROUTER__PREFIX": inputs.path("router"),
                "DEIS_ROUTER__HTTP_PORT": str(ports["router_http"]),
                "DEIS_ROUTER__HTTPS_PORT": str(ports["router_https"]),
                "DEIS_ROUTER__CONTROLLER_PORT": str(ports["controller"]),
            }
        case "backup":
            return {
                "DEIS_DATABASE__URL": database_url(inputs, BACKUP_ROLE),
                "DEIS_DATABASE__PASSWORD": inputs.database_passwords.backup,
                "DEIS_BACKUP__DATA_DIR": inputs.path("backup"),
            }
    raise ValueError(f"unknown service {service!r}")


def service_environment(service: str, inputs: ContractInputs) -> dict[str, str]:
    """The complete ``DEIS_*`` environment of one service (``controller``, ``builder``, ...)."""
    http_port = inputs.ports[SERVICE_HTTP_PORT_ROLE[service]]
    return {
        **common_environment(inputs),
        **nats_login(service, inputs),
        "DEIS_HTTP__PORT": str(http_port),
        **_own_environment(service, inputs),
    }
