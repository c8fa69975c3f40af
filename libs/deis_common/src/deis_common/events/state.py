"""Value models carried inside events: the desired state of an app and its routing.

These are "event-carried state": ``releases.created`` holds everything the scheduler needs to run an app,
and the controller snapshot holds everything router-sync needs, so no consumer calls the controller back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import Field

from deis_common.events.base import REDACTED, Model

BuildKind = Literal["buildpack", "dockerfile", "image"]


class ImageConfig(Model):
    """What an OCI image says about how to run it (Dockerfile builds and ``deis pull``)."""

    entrypoint: list[str] = Field(default_factory=list)
    cmd: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    workdir: str = ""
    user: str = ""
    exposed_ports: list[int] = Field(default_factory=list)


class BuildArtifact(Model):
    """A built, stored artifact that a release runs."""

    kind: BuildKind
    location: str = Field(description="slug object key in the builder bucket, or an image reference")
    sha: str = Field("", description="8 hex characters of the pushed git revision; empty for images")
    procfile: dict[str, str] = Field(default_factory=dict)
    image: ImageConfig | None = Field(None, description="image metadata for dockerfile/image builds")
    rootfs: str = Field("", description="store key of the image root filesystem tarball (embedded mode)")


class AppState(Model):
    """The whole desired state of one app at one generation."""

    app: str
    generation: int = Field(description="per-app counter, bumped on every desired-state change")
    version: int = Field(description="release version this state belongs to")
    build: BuildArtifact | None = None
    env: dict[str, str] = Field(default_factory=dict, description="user config (secret)")
    structure: dict[str, int] = Field(default_factory=dict, description="process type -> replicas")
    memory: dict[str, str] = Field(default_factory=dict, description="process type -> memory limit")
    cpu: dict[str, str] = Field(default_factory=dict, description="process type -> cpu limit")
    healthchecks: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="process type -> {livenessProbe, readinessProbe}"
    )
    tags: dict[str, str] = Field(default_factory=dict)
    summary: str = ""
    created_at: datetime | None = None
    autoscale: dict[str, dict[str, int]] = Field(default_factory=dict)
    registry: dict[str, str] = Field(
        default_factory=dict,
        description="private registry credentials of the app's image (deis registry:set): username, password "
        "(secret)",
    )

    def redacted(self) -> Self:
        """The same state with the config values and registry credentials hidden (the names stay)."""
        return self.model_copy(
            update={
                "env": dict.fromkeys(self.env, REDACTED),
                "registry": dict.fromkeys(self.registry, REDACTED),
            }
        )


class RouteSettings(Model):
    """The routing-relevant app settings (AppSettings + TLS)."""

    routable: bool = True
    maintenance: bool = False
    whitelist: list[str] = Field(default_factory=list, description="CIDRs or addresses allowed in")
    https_enforced: bool = False


class CertBinding(Model):
    """A certificate attached to a domain (PEM text; the key is secret)."""

    name: str
    domain: str
    certificate: str
    key: str


class ProcessInfo(Model):
    """One running (or failing) process of an app, as ``deis ps`` shows it."""

    name: str = Field(description="<app>-<type>-<id>")
    type: str
    release: str = Field(description="v<N>")
    state: Literal["up", "down", "crashed", "starting", "terminating", "error"] = "up"
    started: datetime | None = None
    restarts: int = 0


class AppSnapshot(Model):
    """All the controller knows that derived-state consumers need about one app."""

    app: str
    state: AppState | None = Field(None, description="latest good release's desired state")
    routing: RouteSettings = Field(default_factory=RouteSettings)
    domains: list[str] = Field(default_factory=list)
    certs: list[CertBinding] = Field(default_factory=list)
    endpoints: list[str] = Field(
        default_factory=list, description="host:port the scheduler last reported healthy (containers.healthy)"
    )
    endpoints_generation: int = Field(0, description="generation of those endpoints (0: none reported)")
