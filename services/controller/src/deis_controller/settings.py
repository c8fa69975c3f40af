"""The controller's settings: the shared service settings plus the database and the API's operator knobs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from deis_common.settings import HttpSettings, ServiceSettings
from deis_controller.domain.nodes import parse as parse_nodes


class DatabaseSettings(BaseModel):
    url: str = Field(
        "postgresql://deis@127.0.0.1:5432/deis",
        description="Postgres DSN of the controller's database, connecting as the role that owns it",
    )
    password: SecretStr = Field(
        SecretStr(""),
        description="password of that role (DEIS_DATABASE__PASSWORD); empty: the one in the URL, if any",
    )
    min_connections: int = Field(1, description="connections kept open in the pool")
    max_connections: int = Field(10, description="most connections the pool opens")


class ControllerSettings(ServiceSettings):
    """Read from DEIS_* variables (nested groups with ``__``, e.g. DEIS_DATABASE__URL)."""

    http: HttpSettings = Field(
        default_factory=lambda: HttpSettings(port=8000), description="the API and /healthz share this port"
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    router_port: int = Field(8080, description="port the router serves apps on (shown in app URLs)")
    builder_url: str = Field(
        "", description="git remote base for the CLI, e.g. ssh://git@host:2222 (empty: derive it)"
    )
    registration_mode: Literal["enabled", "disabled", "admin_only"] = Field(
        "admin_only",
        description=(
            "who may register: admin_only (Workflow's default: the first user, who becomes admin, then"
            " only admins with their token), enabled (anyone) or disabled (nobody)"
        ),
    )
    reserved_names: str = Field(
        "deis,deis-builder,deis-workflow-manager,grafana",
        description="comma-separated app names nobody may create",
    )
    deploy_hook_urls: str = Field("", description="comma-separated URLs POSTed to after every release")
    deploy_hook_secret_key: str = Field(
        "", description="when set, deploy hooks carry Authorization = hex HMAC-SHA1(secret, full URL)"
    )
    deploy_procfile_missing_remove: bool = Field(
        True, description="scale to 0 the process types a new build's Procfile no longer has"
    )
    deploy_reject_if_procfile_missing: bool = Field(
        False, description="refuse a build without a Procfile when the previous build had one"
    )
    default_config_tags: str = Field("", description="JSON object of tags used when an app sets none")
    node_labels: str = Field(
        "",
        description="the labels of the node apps run on, k=v,k2=v2 or JSON ({k: v}, or [{...}, ...] for each "
        "node); tags:set refuses tags no node carries. Empty: nodes unknown, any tags accepted (Kubernetes)",
    )
    password_time_cost: int = Field(3, description="argon2 passes per password hash")
    password_memory_kib: int = Field(65536, description="argon2 memory per password hash, KiB")
    deploy_wait: float = Field(
        100.0, description="seconds an API change waits for its deploy to run before answering (0: no wait)"
    )
    route_wait: float = Field(
        5.0,
        description="seconds a domain, certificate or settings change waits for the router (0: no wait)",
    )
    pull_through_builder: bool = Field(
        True, description="deis pull hands the image to the builder, which stores it for the scheduler"
    )
    pull_wait: float = Field(1200.0, description="seconds a deis pull waits for the builder and the deploy")
    run_timeout: float = Field(1200.0, description="seconds a `deis run` may take before it is abandoned")
    ps_timeout: float = Field(2.0, description="seconds to wait for the scheduler's process list")
    outbox_poll_interval: float = Field(1.0, description="seconds between outbox sweeps for unsent events")

    @field_validator("node_labels")
    @classmethod
    def _node_labels_are_json(cls, value: str) -> str:
        parse_nodes(value)  # refuse a malformed setting at start, not at the first tags:set
        return value

    @property
    def nodes(self) -> list[dict[str, str]] | None:
        """The nodes' labels, or None when the controller does not know the nodes."""
        return parse_nodes(self.node_labels)

    @property
    def reserved(self) -> set[str]:
        return {n.strip() for n in self.reserved_names.split(",") if n.strip()}

    @property
    def hook_urls(self) -> list[str]:
        return [u.strip() for u in self.deploy_hook_urls.split(",") if u.strip()]
