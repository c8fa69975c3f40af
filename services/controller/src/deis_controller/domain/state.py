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
from deis_controller.db import snapshot as snapshot_db


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
    return {k: v if v.__class__ is str else str(v) for k, v in section.items()}


def _healthchecks(config: dict[str, Any], structure: dict[str, int]) -> dict[str, dict[str, Any]]:
    checks = dict(config["healthcheck"])
    shared = checks.pop("web/cmd", None)
    if shared is not None:
        for kind in ("web", "cmd"):
            checks.setdefault(kind, shared)
    return checks


def compose_state(
    app: dict[str, Any],
    release: dict[str, Any],
    config: dict[str, Any],
    build: dict[str, Any] | None,
    settings: dict[str, Any] | None,
    generation: int | None = None,
) -> AppState:
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
        registry=_strings(config.get("registry") or {}),
    )


def compose_routing(settings: dict[str, Any] | None, tls: dict[str, Any] | None) -> RouteSettings:
    return RouteSettings(
        routable=settings["routable"] if settings else True,
        maintenance=settings["maintenance"] if settings else False,
        whitelist=list(settings["whitelist"]) if settings else [],
        https_enforced=bool(tls and tls["https_enforced"]),
    )


async def app_state(
    tx: Tx, app: dict[str, Any], release: dict[str, Any], generation: int | None = None
) -> AppState:
    config = await releases_db.config(tx, release["config_uuid"])
    build = await releases_db.build(tx, release["build_uuid"]) if release["build_uuid"] else None
    settings = await routing_db.latest_settings(tx, app["uuid"])
    return compose_state(app, release, config, build, settings, generation)


async def route_settings(tx: Tx, app_uuid: Any) -> RouteSettings:
    settings = await routing_db.latest_settings(tx, app_uuid)
    tls = await routing_db.latest_tls(tx, app_uuid)
    return compose_routing(settings, tls)


async def snapshots(
    tx: Tx, app_id: str | None, *, after: str | None = None, limit: int | None = None, with_state: bool = True
) -> list[AppSnapshot]:
    """One app's snapshot, or a page of them (``after``/``limit``, all when ``limit`` is None), read in a
    fixed number of queries however many apps there are; without desired states unless ``with_state``."""
    data = await snapshot_db.load(tx, app_id, after=after, limit=limit, with_state=with_state)
    out = []
    for app in data.apps:
        key = app["uuid"]
        release = data.releases.get(key)
        state = None
        if release is not None:
            config = data.configs[release["config_uuid"]]
            build = data.builds.get(release["build_uuid"]) if release["build_uuid"] else None
            state = compose_state(app, release, config, build, data.settings.get(key))
        out.append(
            AppSnapshot(
                app=app["id"],
                state=state,
                routing=compose_routing(data.settings.get(key), data.tls.get(key)),
                domains=data.domains.get(key, []),
                certs=[CertBinding(**b) for b in data.bindings.get(key, [])],
                endpoints=list(app["endpoints"]),
                endpoints_generation=app["endpoints_generation"],
            )
        )
    return out
