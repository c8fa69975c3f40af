"""Builds: Procfile rules, the structure a build implies, releasing a build, and image pulls.

Used by ``POST /v2/apps/<id>/builds``, the builder's ``hooks/build`` and the ``BuildCompleted`` handler.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deis_common.events.builds import BuildCompleted
from deis_common.events.pushes import PushReceived
from deis_common.events.releases import ReleaseRejected
from deis_controller.controller import Work
from deis_controller.db import apps as apps_db
from deis_controller.db import releases as releases_db
from deis_controller.db import users as users_db
from deis_controller.domain import releases
from deis_controller.domain.config import PROCTYPE, PROCTYPE_MESSAGE
from deis_controller.domain.state import build_kind
from deis_controller.domain.summary import build_summary
from deis_controller.errors import Conflict, DomainError, FieldErrors, NoMatch, found
from deis_controller.records import App, Build, Config, Release, ReleaseKind

PROCFILE_MISSING = (
    "Last deployment had a Procfile but is missing in this deploy."
    " For a successful deployment provide a Procfile."
)


@dataclass(frozen=True, slots=True)
class NewBuild:
    """A build to store: from the API, the builder's hook, or a finished build worker."""

    image: str
    sha: str = ""
    procfile: Mapping[str, str] = field(default_factory=dict)
    dockerfile: str = ""
    build_id: str | None = None
    artifact: Mapping[str, Any] | None = None


def check_procfile(procfile: Any) -> dict[str, str]:
    if procfile is None or procfile == "":
        return {}
    if not isinstance(procfile, dict):
        raise FieldErrors.one("procfile", "Procfile must be an object of process type to command")
    for proctype, command in procfile.items():
        if not PROCTYPE.match(proctype):
            raise FieldErrors.one("procfile", PROCTYPE_MESSAGE)
        if not isinstance(command, str) or not command.strip():
            raise FieldErrors.one("procfile", f"Command can't be empty for process type {proctype}")
    return {k: str(v) for k, v in procfile.items()}


def pull_env(config: Config | None) -> dict[str, str]:
    """What the builder gets to pull an image with: the app's config values, and the credentials of
    ``deis registry:set username=... password=...`` as ``DEIS_REGISTRY_USERNAME``/``DEIS_REGISTRY_PASSWORD``
    (they win over config values of those names, as they are what the user set for this purpose)."""
    if config is None:
        return {}
    env = {k: str(v) for k, v in config.values.items()}
    registry = config.registry
    for key, name in (("username", "DEIS_REGISTRY_USERNAME"), ("password", "DEIS_REGISTRY_PASSWORD")):
        if registry.get(key):
            env[name] = str(registry[key])
    return env


def default_structure(build: Build) -> dict[str, int]:
    procfile = build.procfile
    if "web" in procfile:
        return {"web": 1}
    if not build.sha or build.dockerfile:
        return {"cmd": 1}
    if procfile:
        return {}
    return {"web": 1}


def next_structure(
    structure: Mapping[str, int], new: Build, old: Build | None, remove_missing: bool
) -> dict[str, int]:
    result = dict(structure)
    if old is not None and (remove_missing or (old.procfile and new.procfile)):
        for proctype in old.procfile:
            if proctype not in new.procfile and proctype in result:
                result[proctype] = 0
    if not structure:
        return {**result, **default_structure(new)}
    if old is not None and build_kind(old) != build_kind(new):
        for proctype in ("web", "cmd"):
            if proctype in result:
                result[proctype] = 0
        result.update(default_structure(new))
    return result


async def release_build(
    work: Work,
    app: App,
    user: str,
    build: NewBuild,
    *,
    remove_missing: bool,
    reject_missing: bool,
) -> tuple[Build, Release]:
    """Store the build and release it with the current config; returns the build and its release."""
    current = await releases.current(work, app)
    previous = await releases_db.build(work.tx, current.build_uuid) if current.build_uuid else None
    procfile = build.procfile
    if previous is not None and previous.procfile and not procfile:
        if reject_missing:
            raise Conflict(PROCFILE_MISSING)
        if not remove_missing:
            procfile = dict(previous.procfile)
    artifact = build.artifact
    if artifact is not None and procfile != artifact.get("procfile"):
        artifact = {**artifact, "procfile": procfile}
    row = await releases_db.insert_build(
        work.tx,
        app.uuid,
        user,
        image=build.image,
        sha=build.sha,
        procfile=procfile,
        dockerfile=build.dockerfile,
        build_id=build.build_id,
        artifact=artifact,
    )
    work.log(app.id, f"build {app.id}-{str(row.uuid)[:7]} created")
    structure = next_structure(app.structure, row, previous, remove_missing)
    if structure != app.structure:
        app = await apps_db.set_structure(work.tx, app.uuid, structure)
    release = await releases.new_release(
        work,
        app,
        owner=user,
        config_uuid=current.config_uuid,
        build_uuid=row.uuid,
        summary=build_summary(user, row),
        kind=ReleaseKind.BUILD,
        build_id=build.build_id,
    )
    return row, release


async def page(work: Work, limit: int, offset: int, *, app: App) -> tuple[int, list[Build]]:
    return await releases_db.builds_page(work.tx, app.uuid, limit, offset)


async def current(work: Work, app: App) -> Build:
    """The build the current release runs."""
    release = await releases_db.current(work.tx, app.uuid)
    if release is None or release.build_uuid is None:
        raise NoMatch("Build")
    return await releases_db.build(work.tx, release.build_uuid)


async def by_build_id(work: Work, build_id: str) -> Build:
    """The build a build worker finished as ``build_id``."""
    return found(await releases_db.build_by_event_id(work.tx, build_id), "Build")


async def request_pull(work: Work, app: App, user: str, build: NewBuild) -> str:
    """Hand ``build.image`` to the builder (``PushReceived``), remembering its Procfile; the build id."""
    current = await releases_db.current(work.tx, app.uuid)
    config = await releases_db.config(work.tx, current.config_uuid) if current else None
    build_id = uuid.uuid4().hex
    await releases_db.add_pull(work.tx, build_id, app.uuid, user, build.procfile)
    await work.emit(
        PushReceived(
            app=app.id,
            build_id=build_id,
            user=user,
            sha="",
            source_key="",
            image=build.image,
            env=pull_env(config),
        )
    )
    work.log(app.id, f"{user} pulls {build.image}")
    return build_id


async def complete(
    work: Work, event: BuildCompleted, *, remove_missing: bool, reject_missing: bool
) -> str | None:
    """Release a finished build (once per ``build_id``); the reason when the rules refuse it, which is
    announced as ``ReleaseRejected``."""
    if await releases_db.build_by_event_id(work.tx, event.build_id) is not None:
        return None
    app = await apps_db.get(work.tx, event.app, lock=True)
    if app is None:
        reason = f"app {event.app} does not exist"
        await work.emit(ReleaseRejected(app=event.app, build_id=event.build_id, reason=reason))
        return reason
    user = event.user if await users_db.by_username(work.tx, event.user) else app.owner
    artifact = event.artifact
    pulled_procfile = await releases_db.take_pull(work.tx, event.build_id)
    if pulled_procfile and not artifact.procfile:
        artifact = artifact.model_copy(update={"procfile": pulled_procfile})
    lines = len(work.lines)
    try:
        async with work.tx.savepoint():
            await release_build(
                work,
                app,
                user,
                NewBuild(
                    image=artifact.location,
                    sha=artifact.sha,
                    procfile=check_procfile(dict(artifact.procfile)),
                    dockerfile="Dockerfile" if artifact.kind == "dockerfile" else "",
                    build_id=event.build_id,
                    artifact=artifact.model_dump(mode="json"),
                ),
                remove_missing=remove_missing,
                reject_missing=reject_missing,
            )
    except DomainError as e:
        del work.lines[lines:]
        await work.emit(ReleaseRejected(app=event.app, build_id=event.build_id, reason=e.detail))
        return e.detail
    return None
