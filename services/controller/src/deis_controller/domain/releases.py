"""The release engine: numbered releases of (config, build), each published with the app's full state.

Every new release bumps the app's generation and puts ``ReleaseCreated`` in the outbox in the same
transaction. Deploy outcomes come back as events: routed → deployed; failed → the release is marked failed
and the last good release is published again (as a new generation).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from deis_common.events.releases import ReleaseCreated, ReleaseDeployed
from deis_controller.controller import Work
from deis_controller.db import apps as apps_db
from deis_controller.db import releases as releases_db
from deis_controller.domain import config as config_rules
from deis_controller.domain import nodes as node_rules
from deis_controller.domain.state import app_state
from deis_controller.domain.summary import config_summary
from deis_controller.errors import BadRequest, Conflict, NoMatch, found
from deis_controller.records import App, Config, Release, ReleaseKind


async def publish(
    work: Work, app: App, release: Release, *, build_id: str | None = None, rollback_of: int | None = None
) -> None:
    """Announce ``release`` as what ``app`` (at its current generation) runs."""
    state = await app_state(work.tx, app, release)
    await work.emit(
        ReleaseCreated(
            app=app.id,
            build_id=build_id,
            summary=release.summary,
            state=state,
            rollback_of=rollback_of,
        )
    )


async def new_release(
    work: Work,
    app: App,
    *,
    owner: str,
    config_uuid: uuid.UUID,
    build_uuid: uuid.UUID | None,
    summary: str,
    kind: ReleaseKind,
    build_id: str | None = None,
) -> Release:
    version = await releases_db.latest_version(work.tx, app.uuid) + 1
    app = await apps_db.bump_generation(work.tx, app.uuid)
    release = await releases_db.insert_release(
        work.tx,
        app.uuid,
        owner,
        version=version,
        summary=summary,
        kind=kind,
        generation=app.generation,
        config_uuid=config_uuid,
        build_uuid=build_uuid,
    )
    await publish(work, app, release, build_id=build_id)
    work.log(app.id, summary)
    return release


def default_tags(raw: str) -> dict[str, str]:
    if not raw:
        return {}
    try:
        tags = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


async def initial(work: Work, app: App, tags: Mapping[str, str]) -> Release:
    config = await releases_db.insert_config(work.tx, app.uuid, app.owner, {"tags": tags})
    work.log(app.id, f"config {app.id}-{str(config.uuid)[:7]} updated")
    return await new_release(
        work,
        app,
        owner=app.owner,
        config_uuid=config.uuid,
        build_uuid=None,
        summary=f"{app.owner} created initial release",
        kind=ReleaseKind.INITIAL,
    )


async def current(work: Work, app: App) -> Release:
    """The release the app runs (it has one from its creation on: v1)."""
    return found(await releases_db.current(work.tx, app.uuid), "Release")


async def current_config(work: Work, app: App) -> Config:
    release = await releases_db.current(work.tx, app.uuid)
    if release is not None:
        return await releases_db.config(work.tx, release.config_uuid)
    return found(await releases_db.latest_config(work.tx, app.uuid), "Config")


async def change_config(
    work: Work,
    app: App,
    user: str,
    request: Mapping[str, Any],
    tags: Mapping[str, str],
    nodes: list[dict[str, str]] | None = None,
) -> tuple[Config, Release]:
    """Merge a config POST into the current config and release it; 409 when it changes nothing, 400 when
    no node carries its tags (``nodes``: the nodes' labels, None when unknown)."""
    changes = config_rules.parse_request(request)
    current = await releases_db.current(work.tx, app.uuid)
    base = await current_config(work, app)
    merged = config_rules.merge(base.sections(), changes, tags)
    node_rules.check_tags(merged["tags"], {k: str(v) for k, v in base.tags.items()}, nodes)
    summary = config_summary(user, merged, base.sections())
    if not summary:
        raise Conflict(f"{user} changed nothing - release stopped")
    config = await releases_db.insert_config(work.tx, app.uuid, user, merged)
    work.log(app.id, f"config {app.id}-{str(config.uuid)[:7]} updated")
    release = await new_release(
        work,
        app,
        owner=user,
        config_uuid=config.uuid,
        build_uuid=current.build_uuid if current else None,
        summary=summary,
        kind=ReleaseKind.CONFIG,
    )
    return config, release


async def rollback(work: Work, app: App, user: str, raw_version: Any) -> Release:
    reference = await current(work, app)
    if raw_version is None or raw_version == "":
        target = reference.version - 1
    else:
        if isinstance(raw_version, float) and not raw_version.is_integer():
            raise BadRequest(f"version must be an integer, not {raw_version!r}")
        try:
            target = int(raw_version)
        except (TypeError, ValueError, OverflowError) as e:
            raise BadRequest(f"version must be an integer, not {raw_version!r}") from e
    if target < 1:
        raise BadRequest("version cannot be below 0")
    if target == 1:
        raise BadRequest("Cannot roll back to initial release.")
    prev = await releases_db.by_version(work.tx, app.uuid, target)
    if prev is None:
        raise BadRequest("Release matching query does not exist.")
    if prev.failed:
        raise BadRequest("Cannot roll back to failed release.")
    return await new_release(
        work,
        app,
        owner=user,
        config_uuid=prev.config_uuid,
        build_uuid=prev.build_uuid,
        summary=f"{user} rolled back to v{target}",
        kind=ReleaseKind.ROLLBACK,
    )


async def routed(work: Work, app: App, generation: int) -> None:
    """The router serves ``generation``: the release it belongs to is deployed (announced once)."""
    release = await releases_db.undeployed_at(work.tx, app.uuid, generation)
    if release is None or release.deployed:
        return
    await releases_db.mark_deployed(work.tx, release.uuid)
    await work.emit(ReleaseDeployed(app=app.id, version=release.version, generation=generation))


def _failure_summary(release: Release) -> str:
    owner, kind = release.owner, release.kind
    if kind is ReleaseKind.BUILD and release.build_uuid:
        return f"{owner} deployed {str(release.build_uuid)[:7]} which failed"
    if kind is ReleaseKind.ROLLBACK:
        return f"{owner} performed roll back to a release that failed"
    return f"{owner} deployed a config that failed"


async def deploy_failed(work: Work, app: App, version: int, reason: str) -> None:
    """Mark the release failed; when it was the newest, run the last good release again."""
    release = await releases_db.by_version(work.tx, app.uuid, version)
    if release is None or release.failed:
        return
    await releases_db.mark_failed(work.tx, release.uuid, _failure_summary(release))
    work.log(app.id, f"deploy of v{version} failed: {reason}")
    if version != await releases_db.latest_version(work.tx, app.uuid):
        return
    good = await releases_db.current(work.tx, app.uuid)
    if good is None or good.build_uuid is None:
        return
    app = await apps_db.bump_generation(work.tx, app.uuid)
    await publish(work, app, good, rollback_of=good.version)
    work.log(app.id, f"Rolling back process types to release v{good.version}.")


async def page(work: Work, limit: int, offset: int, *, app: App) -> tuple[int, list[Release]]:
    return await releases_db.releases_page(work.tx, app.uuid, limit, offset)


async def get(work: Work, app: App, version: int | None) -> Release:
    if version is None:
        raise NoMatch("Release")
    return found(await releases_db.by_version(work.tx, app.uuid, version), "Release")


async def owner_of(work: Work, app_id: str, version: int) -> str | None:
    """Who made release ``version`` of ``app_id``; None when there is no such release (any more)."""
    app = await apps_db.get(work.tx, app_id)
    release = await releases_db.by_version(work.tx, app.uuid, version) if app else None
    return release.owner if release is not None else None
