"""Settings shared by every service, read from ``DEIS_``-prefixed environment variables.

Nested groups use a double underscore: ``DEIS_NATS__URL``, ``DEIS_STORE__DRIVER``. Each service subclasses
:class:`ServiceSettings` and adds its own fields; settings are built once in ``__main__`` and passed down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NatsSettings(BaseModel):
    url: str = Field("nats://127.0.0.1:4222", description="NATS server URL(s), comma-separated")
    user: str = Field(
        "",
        description="NATS user this service connects as (the platform's servers refuse anonymous "
        "connections and limit each user to its subjects, see deis_common.natsauth); empty: none",
    )
    password: SecretStr = Field(
        SecretStr(""), description="password of that NATS user (secret, never logged)"
    )
    connect_timeout: float = Field(5.0, description="seconds to wait for each connection attempt")
    stream_replicas: int = Field(1, description="JetStream replicas per stream (3 in a NATS cluster)")


class HttpSettings(BaseModel):
    host: str = Field("127.0.0.1", description="address the HTTP endpoint binds")
    port: int = Field(8080, description="port of /healthz, /readiness and /metrics (and the API, if any)")


class S3Settings(BaseModel):
    endpoint: str | None = Field(None, description="S3 endpoint URL; None means AWS")
    region: str = Field("us-east-1", description="S3 region")
    access_key: str | None = Field(None, description="access key id")
    secret_key: str | None = Field(None, description="secret access key")
    path_style: bool = Field(True, description="use path-style addressing (MinIO and most S3 servers)")
    bucket_prefix: str = Field("", description="prefix added to every bucket name, e.g. 'acme-'")


class StoreSettings(BaseModel):
    driver: Literal["fs", "s3"] = Field("fs", description="object store driver")
    path: Path = Field(
        Path.home() / ".deis-platform" / "store", description="root directory of the fs driver"
    )
    s3: S3Settings = Field(default_factory=S3Settings)


class RegistrySettings(BaseModel):
    """The platform's image registry (cluster mode): the builder pushes every image it makes there and the
    scheduler's pods pull from it. No host (the embedded default): images stay in the object store."""

    host: str = Field("", description="registry images are pushed to (host[:port]); empty: none")
    pull_host: str = Field(
        "", description="how nodes reach that registry (e.g. a node-local proxy 127.0.0.1:5555); empty: host"
    )
    insecure: bool = Field(False, description="the registry speaks plain HTTP")
    username: str = Field("", description="registry user; with a password, pods get an imagePullSecret")
    password: str = Field("", description="registry password (secret)")


class ServiceSettings(BaseSettings):
    """What every service needs. Subclasses add a service's own fields."""

    model_config = SettingsConfigDict(env_prefix="DEIS_", env_nested_delimiter="__", extra="ignore")

    nats: NatsSettings = Field(default_factory=NatsSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    log_level: str = Field("info", description="lowest log level printed")
    log_json: bool = Field(True, description="JSON log lines (false: human-readable console lines)")
    grace_period: float = Field(10.0, description="seconds in-flight work may take to finish on stop")
    platform_domain: str = Field("localhost", description="apps are served at <app>.<platform domain>")
    controller_url: str = Field("http://127.0.0.1:8000", description="base URL of the controller API")
    builder_key: str = Field("", description="shared secret for the builder hooks (X-Deis-Builder-Auth)")
