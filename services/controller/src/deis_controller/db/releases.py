"""Configs, builds and releases: the immutable history a release engine appends to."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from deis_controller.db.pool import Tx
from deis_controller.records import CONFIG_SECTIONS, Build, Config, Release, ReleaseKind

CONFIG_COLUMNS = 'uuid, app_uuid, owner, "values", memory, cpu, tags, registry, healthcheck, created, updated'
BUILD_COLUMNS = (
    "uuid, app_uuid, owner, image, sha, procfile, dockerfile, build_id, artifact, created, updated"
)
RELEASE_COLUMNS = (
    "uuid, app_uuid, owner, version, summary, kind, failed, deployed, generation, config_uuid, build_uuid,"
    " created, updated"
)
VERSION_MAX = 2**31 - 1  # releases.version is an integer column


# -- configs --------------------------------------------------------------------------------------


async def insert_config(
    tx: Tx, app_uuid: uuid.UUID, owner: str, sections: Mapping[str, Mapping[str, Any]]
) -> Config:
    row = await tx.one(
        'INSERT INTO configs (uuid, app_uuid, owner, "values", memory, cpu, tags, registry, healthcheck)'
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {CONFIG_COLUMNS}",
        uuid.uuid4(),
        app_uuid,
        owner,
        *(dict(sections.get(s, {})) for s in CONFIG_SECTIONS),
    )
    return Config.from_row(row)


async def config(tx: Tx, config_uuid: uuid.UUID) -> Config:
    return Config.from_row(await tx.one(f"SELECT {CONFIG_COLUMNS} FROM configs WHERE uuid = $1", config_uuid))


async def latest_config(tx: Tx, app_uuid: uuid.UUID) -> Config | None:
    row = await tx.row(
        f"SELECT {CONFIG_COLUMNS} FROM configs WHERE app_uuid = $1 ORDER BY created DESC LIMIT 1", app_uuid
    )
    return Config.from_row(row) if row is not None else None


# -- builds ---------------------------------------------------------------------------------------


async def insert_build(
    tx: Tx,
    app_uuid: uuid.UUID,
    owner: str,
    *,
    image: str,
    sha: str,
    procfile: Mapping[str, str],
    dockerfile: str,
    build_id: str | None,
    artifact: Mapping[str, Any] | None,
) -> Build:
    row = await tx.one(
        "INSERT INTO builds (uuid, app_uuid, owner, image, sha, procfile, dockerfile, build_id, artifact)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {BUILD_COLUMNS}",
        uuid.uuid4(),
        app_uuid,
        owner,
        image,
        sha,
        dict(procfile),
        dockerfile,
        build_id,
        dict(artifact) if artifact is not None else None,
    )
    return Build.from_row(row)


async def build(tx: Tx, build_uuid: uuid.UUID) -> Build:
    return Build.from_row(await tx.one(f"SELECT {BUILD_COLUMNS} FROM builds WHERE uuid = $1", build_uuid))


async def build_by_event_id(tx: Tx, build_id: str) -> Build | None:
    row = await tx.row(f"SELECT {BUILD_COLUMNS} FROM builds WHERE build_id = $1", build_id)
    return Build.from_row(row) if row is not None else None


async def builds_page(tx: Tx, app_uuid: uuid.UUID, limit: int, offset: int) -> tuple[int, list[Build]]:
    count = int(await tx.val("SELECT count(*) FROM builds WHERE app_uuid = $1", app_uuid))
    rows = await tx.rows(
        f"SELECT {BUILD_COLUMNS} FROM builds WHERE app_uuid = $1 ORDER BY created DESC LIMIT $2 OFFSET $3",
        app_uuid,
        limit,
        offset,
    )
    return count, [Build.from_row(r) for r in rows]


# -- releases -------------------------------------------------------------------------------------


async def insert_release(
    tx: Tx,
    app_uuid: uuid.UUID,
    owner: str,
    *,
    version: int,
    summary: str,
    kind: ReleaseKind,
    generation: int,
    config_uuid: uuid.UUID,
    build_uuid: uuid.UUID | None,
) -> Release:
    row = await tx.one(
        "INSERT INTO releases (uuid, app_uuid, owner, version, summary, kind, generation, config_uuid,"
        f" build_uuid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {RELEASE_COLUMNS}",
        uuid.uuid4(),
        app_uuid,
        owner,
        version,
        summary,
        kind,
        generation,
        config_uuid,
        build_uuid,
    )
    return Release.from_row(row)


async def latest_version(tx: Tx, app_uuid: uuid.UUID) -> int:
    return int(await tx.val("SELECT coalesce(max(version), 0) FROM releases WHERE app_uuid = $1", app_uuid))


async def current(tx: Tx, app_uuid: uuid.UUID) -> Release | None:
    """The newest release that did not fail."""
    return _release(await tx.row(
        f"SELECT {RELEASE_COLUMNS} FROM releases WHERE app_uuid = $1 AND NOT failed"
        " ORDER BY version DESC LIMIT 1",
        app_uuid,
    ))


def _release(row: Mapping[str, Any] | None) -> Release | None:
    return Release.from_row(row) if row is not None else None


async def by_version(tx: Tx, app_uuid: uuid.UUID, version: int) -> Release | None:
    if not 0 <= version <= VERSION_MAX:
        return None  # no such release can exist, and Postgres would refuse the comparison
    return _release(await tx.row(
        f"SELECT {RELEASE_COLUMNS} FROM releases WHERE app_uuid = $1 AND version = $2", app_uuid, version
    ))


async def releases_page(tx: Tx, app_uuid: uuid.UUID, limit: int, offset: int) -> tuple[int, list[Release]]:
    count = int(await tx.val("SELECT count(*) FROM releases WHERE app_uuid = $1", app_uuid))
    rows = await tx.rows(
        f"SELECT {RELEASE_COLUMNS} FROM releases WHERE app_uuid = $1"
        " ORDER BY version DESC LIMIT $2 OFFSET $3",
        app_uuid,
        limit,
        offset,
    )
    return count, [Release.from_row(r) for r in rows]


async def mark_failed(tx: Tx, release_uuid: uuid.UUID, summary: str) -> None:
    await tx.run(
        "UPDATE releases SET failed = true, summary = $2, updated = now() WHERE uuid = $1",
        release_uuid,
        summary,
    )


async def undeployed_at(tx: Tx, app_uuid: uuid.UUID, generation: int) -> Release | None:
    """The newest good release created at or before ``generation`` not yet marked deployed."""
    return _release(await tx.row(
        f"SELECT {RELEASE_COLUMNS} FROM releases WHERE app_uuid = $1 AND NOT failed AND generation <= $2"
        " ORDER BY version DESC LIMIT 1 FOR UPDATE",
        app_uuid,
        generation,
    ))


async def mark_deployed(tx: Tx, release_uuid: uuid.UUID) -> None:
    await tx.run("UPDATE releases SET deployed = true, updated = now() WHERE uuid = $1", release_uuid)


# -- image pulls handed to the builder ------------------------------------------------------------


async def add_pull(
    tx: Tx, build_id: str, app_uuid: uuid.UUID, owner: str, procfile: Mapping[str, str]
) -> None:
    await tx.run(
        "INSERT INTO pulls (build_id, app_uuid, owner, procfile) VALUES ($1, $2, $3, $4)",
        build_id,
        app_uuid,
        owner,
        dict(procfile),
    )


async def take_pull(tx: Tx, build_id: str) -> dict[str, str] | None:
    """The Procfile the pull of ``build_id`` was asked with (None when it was no pull); forgets the pull."""
    row = await tx.row("DELETE FROM pulls WHERE build_id = $1 RETURNING procfile", build_id)
    return {str(k): str(v) for k, v in row["procfile"].items()} if row is not None else None
