"""Builds: Procfile rules, the structure a build implies, and releasing a build.

Used by ``POST /v2/apps/<id>/builds``, the builder's ``hooks/build`` and the ``BuildCompleted`` handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deis_controller.controller import Work
from deis_controller.db import apps as apps_db
from deis_controller.db import releases as releases_db
from deis_controller.domain.config import PROCTYPE, PROCTYPE_MESSAGE
from deis_controller.domain.releases import new_release
from deis_controller.domain.state import build_kind
from deis_controller.domain.summary import build_summary
from deis_controller.errors import Conflict, FieldErrors

PROCFILE_MISSING = (
    "Last deployment had a Procfile but is missing in this deploy."
    " For a successful deployment provide a Procfile."
)


@dataclass(frozen=True)
class NewBuild:
    image: str
    sha: str = ""
    procfile: dict[str, str] = field(default_factory=dict)
    dockerfile: str = ""
    build_id: str | None = None
    artifact: dict[str, Any] | None = None


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


def pull_env(config: dict[str, Any] | None) -> dict[str, str]:
    """What the builder gets to pull an image with: the app's config values, and the credentials of
    ``deis registry:set username=... password=...`` as ``DEIS_REGISTRY_USERNAME``/``DEIS_REGISTRY_PASSWORD``
    (they win over config values of those names, as they are what the user set for this purpose)."""
    if config is None:
        return {}
    env = {k: str(v) for k, v in (config["values"] or {}).items()}
    registry = config.get("registry") or {}
    for key, name in (("username", "DEIS_REGISTRY_USERNAME"), ("password", "DEIS_REGISTRY_PASSWORD")):
        if registry.get(key):
            env[name] = str(registry[key])
    return env


def default_structure(build: dict[str, Any]) -> dict[str, int]:
    procfile = build["procfile"]
    if "web" in procfile:
        return {"web": 1}
    if not build["sha"] or build["dockerfile"]:
        return {"cmd": 1}
    if procfile:
        return {}
    return {"web": 1}


def next_structure(
    structure: dict[str, int], new: dict[str, Any], old: dict[str, Any] | None, remove_missing: bool
) -> dict[str, int]:
    result = dict(structure)
    if old is not None and (remove_missing or (old["procfile"] and new["procfile"])):
        for proctype in old["procfile"]:
            if proctype not in new["procfile"] and proctype in result:
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
    app: dict[str, Any],
    user: str,
    build: NewBuild,
    *,
    remove_missing: bool,
    reject_missing: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Store the build and release it with the current config; returns (build row, release row)."""
    current = await releases_db.current(work.tx, app["uuid"])
    assert current is not None
    previous = await releases_db.build(work.tx, current["build_uuid"]) if current["build_uuid"] else None
    procfile = build.procfile
    if previous is not None and previous["procfile"] and not procfile:
        if reject_missing:
            raise Conflict(PROCFILE_MISSING)
        if not remove_missing:
            procfile = dict(previous["procfile"])
    artifact = build.artifact
    if artifact is not None and procfile != artifact.get("procfile"):
        artifact = {**artifact, "procfile": procfile}
    row = await releases_db.insert_build(
        work.tx,
        app["uuid"],
        user,
        image=build.image,
        sha=build.sha,
        procfile=procfile,
        dockerfile=build.dockerfile,
        build_id=build.build_id,
        artifact=artifact,
    )
    work.log(app["id"], f"build {app['id']}-{str(row['uuid'])[:7]} created")
    structure = next_structure(app["structure"], row, previous, remove_missing)
    if structure != app["structure"]:
        await apps_db.set_structure(work.tx, app["uuid"], structure)
    release = await new_release(
        work,
        app,
        owner=user,
        config_uuid=current["config_uuid"],
        build_uuid=row["uuid"],
        summary=build_summary(user, row),
        kind="build",
        build_id=build.build_id,
    )
    return row, release


def render(row: dict[str, Any], app_id: str) -> dict[str, Any]:
    return {
        "uuid": row["uuid"],
        "app": app_id,
        "owner": row["owner"],
        "image": row["image"],
        "sha": row["sha"],
        "procfile": row["procfile"],
        "dockerfile": row["dockerfile"],
        "created": row["created"],
        "updated": row["updated"],
    }
