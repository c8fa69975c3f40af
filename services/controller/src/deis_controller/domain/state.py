"""Event-carried state: the full desired state of an app (AppState) and what the router needs (snapshot).

Built from the database inside the same transaction as the change that publishes it.
"""

from __future__ import annotations

from typing import Any

from deis_common.events.state import (
    AppSnapshot,
    AppState,
    BuildArtifact,
    BuildKind,
    CertBinding,
    RouteSettings,
)
from deis_controller.db import Tx
from deis_controller.db import releases as releases_db
from deis_controller.db import routing as routing_db


def build_kind(build: dict[str, Any]) -> BuildKind:
    if build["dockerfile"]:
        return "dockerfile"
    if build["sha"]:
        return "buildpack"
    return "image"


def artifact_of(build: dict[str, Any]) -> BuildArtifact:
    if build.get("artifact"):
        return BuildArtifact.model_validate(build["artifact"])
    return BuildArtifact(
        kind=build_kind(build),
        location=build["image"],
        sha=build["sha"],
        procfile=build["procfile"],
    )


def _strings(section: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in section.items()}


def _healthchecks(config: dict[str, Any], structure: dict[str, int]) -> dict[str, dict[str, Any]]:
    checks = dict(config["healthcheck"])
    shared = checks.pop("web/cmd", None)
    if shared is not None:
        for kind in ("web", "cmd"):
            checks.setdefault(kind, shared)
    return checks


async def app_state(
    tx: Tx, app: dict[str, Any], release: dict[str, Any], generation: int | None = None
) -> AppState:
    config = await releases_db.config(tx, release["config_uuid"])
    build = await releases_db.build(tx, release["build_uuid"]) if release["build_uuid"] else None
    settings = await routing_db.latest_settings(tx, app["uuid"])
    return AppState(
        app=app["id"],
        generation=generation if generation is not None else app["generation"],
        version=release["version"],
        build=artifact_of(build) if build else None,
        env=_strings(config["values"]),
        structure=dict(app["structure"]),
        memory=_strings(config["memory"]),
        cpu=_strings(config["cpu"]),
        healthchecks=_healthchecks(config, app["structure"]),
        tags=_strings(config["tags"]),
        summary=release["summary"],
        created_at=release["created"],
        autoscale=dict(settings["autoscale"]) if settings else {},
    )


async def route_settings(tx: Tx, app_uuid: Any) -> RouteSettings:
    settings = await routing_db.latest_settings(tx, app_uuid)
    tls = await routing_db.latest_tls(tx, app_uuid)
    return RouteSettings(
        routable=settings["routable"] if settings else True,
        maintenance=settings["maintenance"] if settings else False,
        whitelist=list(settings["whitelist"]) if settings else [],
        https_enforced=bool(tls and tls["https_enforced"]),
    )


async def snapshot(tx: Tx, app: dict[str, Any]) -> AppSnapshot:
    release = await releases_db.current(tx, app["uuid"])
    return AppSnapshot(
        app=app["id"],
        state=await app_state(tx, app, release) if release else None,
        routing=await route_settings(tx, app["uuid"]),
        domains=await routing_db.domain_names(tx, app["uuid"]),
        certs=[CertBinding(**b) for b in await routing_db.bindings(tx, app["uuid"])],
    )
