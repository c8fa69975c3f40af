"""Event-carried state: the full desired state of an app (AppState) and what the router needs (snapshot).

Built from the database inside the same transaction as the change that publishes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from deis_common.events.state import (
    AppSnapshot,
    AppState,
    BuildArtifact,
    BuildKind,
    CertBinding,
    RouteSettings,
)
from deis_controller.db import Tx, snapshot_json
from deis_controller.db import releases as releases_db
from deis_controller.db import routing as routing_db
from deis_controller.db import snapshot as snapshot_db
from deis_controller.records import App, AppSettings, Build, Config, Release, Tls


def build_kind(build: Build) -> BuildKind:
    if build.dockerfile:
        return "dockerfile"
    if build.sha:
        return "buildpack"
    return "image"


def artifact_of(build: Build) -> BuildArtifact:
    if build.artifact:
        return BuildArtifact.model_validate(build.artifact)
    return BuildArtifact(
        kind=build_kind(build),
        location=build.image,
        sha=build.sha,
        procfile=dict(build.procfile),
    )


def _strings(section: Mapping[str, Any]) -> dict[str, str]:
    return {k: v if v.__class__ is str else str(v) for k, v in section.items()}


def _healthchecks(config: Config) -> dict[str, dict[str, Any]]:
    checks = dict(config.healthcheck)
    shared = checks.pop("web/cmd", None)
    if shared is not None:
        for kind in ("web", "cmd"):
            checks.setdefault(kind, shared)
    return checks


def compose_state(
    app: str,
    structure: Mapping[str, int],
    generation: int,
    release: Release,
    config: Config,
    build: Build | None,
    settings: AppSettings | None,
) -> AppState:
    return AppState(
        app=app,
        generation=generation,
        version=release.version,
        build=artifact_of(build) if build else None,
        env=_strings(config.values),
        structure=dict(structure),
        memory=_strings(config.memory),
        cpu=_strings(config.cpu),
        healthchecks=_healthchecks(config),
        tags=_strings(config.tags),
        summary=release.summary,
        created_at=release.created,
        autoscale={k: dict(v) for k, v in settings.autoscale.items()} if settings else {},
        registry=_strings(config.registry),
    )


def compose_routing(settings: AppSettings | None, tls: Tls | None) -> RouteSettings:
    return RouteSettings(
        routable=settings.routable if settings else True,
        maintenance=settings.maintenance if settings else False,
        whitelist=list(settings.whitelist) if settings else [],
        https_enforced=bool(tls and tls.https_enforced),
    )


async def app_state(tx: Tx, app: App, release: Release) -> AppState:
    """The desired state of ``app`` (at its generation) running ``release``."""
    config = await releases_db.config(tx, release.config_uuid)
    build = await releases_db.build(tx, release.build_uuid) if release.build_uuid else None
    settings = await routing_db.latest_settings(tx, app.uuid)
    return compose_state(app.id, app.structure, app.generation, release, config, build, settings)


async def route_settings(tx: Tx, app_uuid: uuid.UUID) -> RouteSettings:
    settings = await routing_db.latest_settings(tx, app_uuid)
    tls = await routing_db.latest_tls(tx, app_uuid)
    return compose_routing(settings, tls)


async def snapshots(
    tx: Tx, app_id: str | None, *, after: str | None = None, with_state: bool = True
) -> list[AppSnapshot]:
    """One app's snapshot, or those of all apps after ``after``, read in a fixed number of queries however
    many apps there are; without desired states unless ``with_state``. (Pages: :func:`snapshot_page`.)"""
    data = await snapshot_db.load(tx, app_id, after=after, with_state=with_state)
    out = []
    for app in data.apps:
        key = app["uuid"]
        release_row = data.releases.get(key)
        settings_row, tls_row = data.settings.get(key), data.tls.get(key)
        settings = AppSettings.from_row(settings_row) if settings_row is not None else None
        state = None
        if release_row is not None:
            release = Release.from_row(release_row)
            config = Config.from_row(data.configs[release.config_uuid])
            build_row = data.builds.get(release.build_uuid) if release.build_uuid else None
            build = Build.from_row(build_row) if build_row is not None else None
            state = compose_state(
                app["id"], app["structure"], app["generation"], release, config, build, settings
            )
        out.append(
            AppSnapshot(
                app=app["id"],
                state=state,
                routing=compose_routing(settings, Tls.from_row(tls_row) if tls_row is not None else None),
                domains=data.domains.get(key, []),
                certs=[CertBinding(**b) for b in data.bindings.get(key, [])],
                endpoints=list(app["endpoints"]),
                endpoints_generation=app["endpoints_generation"],
            )
        )
    return out


async def snapshot_page(
    tx: Tx, *, after: str | None, limit: int, budget: int, with_state: bool = True
) -> snapshot_json.PageJson:
    """A page of all apps' snapshots as JSON texts written by Postgres (the same documents as
    :func:`snapshots`), cut to ``budget`` bytes: the resync path, which decodes no row."""
    return await snapshot_json.page(tx, after=after, limit=limit, budget=budget, with_state=with_state)
