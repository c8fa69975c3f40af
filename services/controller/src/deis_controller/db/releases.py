"""Configs, builds and releases: the immutable history a release engine appends to."""

from __future__ import annotations

import uuid
from typing import Any

from deis_controller.db.pool import Tx
from deis_controller.records import CONFIG_SECTIONS

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


async def insert_config(tx: Tx, app_uuid: uuid.UUID, owner: str, sections: dict[str, Any]) -> dict[str, Any]:
    row = await tx.row(
        'INSERT INTO configs (uuid, app_uuid, owner, "values", memory, cpu, tags, registry, healthcheck)'
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {CONFIG_COLUMNS}",
        uuid.uuid4(),
        app_uuid,
        owner,
        *(sections.get(s, {}) for s in CONFIG_SECTIONS),
    )
    assert row is not None
    return row


async def config(tx: Tx, config_uuid: uuid.UUID) -> dict[str, Any]:
    row = await tx.row(f"SELECT {CONFIG_COLUMNS} FROM configs WHERE uuid = $1", config_uuid)
    assert row is not None
    return row


async def latest_config(tx: Tx, app_uuid: uuid.UUID) -> dict[str, Any] | None:
    return await tx.row(
        f"SELECT {CONFIG_COLUMNS} FROM configs WHERE app_uuid = $1 ORDER BY created DESC LIMIT 1", app_uuid
    )


# -- builds ---------------------------------------------------------------------------------------


async def insert_build(
    tx: Tx,
    app_uuid: uuid.UUID,
    owner: str,
    *,
    image: str,
    sha: str,
    procfile: dict[str, str],
    dockerfile: str,
    build_id: str | None,
    artifact: dict[str, Any] | None,
) -> dict[str, Any]:
    row = await tx.row(
        "INSERT INTO builds (uuid, app_uuid, owner, image, sha, procfile, dockerfile, build_id, artifact)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {BUILD_COLUMNS}",
        uuid.uuid4(),
        app_uuid,
        owner,
        image,
        sha,
        procfile,
        dockerfile,
        build_id,
        artifact,
    )
    assert row is not None
    return row


async def build(tx: Tx, build_uuid: uuid.UUID) -> dict[str, Any]:
    row = await tx.row(f"SELECT {BUILD_COLUMNS} FROM builds WHERE uuid = $1", build_uuid)
    assert row is not None
    return row


async def build_by_event_id(tx: Tx, build_id: str) -> dict[str, Any] | None:
    return await tx.row(f"SELECT {BUILD_COLUMNS} FROM builds WHERE build_id = $1", build_id)


async def builds_page(
    tx: Tx, app_uuid: uuid.UUID, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    count = int(await tx.val("SELECT count(*) FROM builds WHERE app_uuid = $1", app_uuid))
    rows = await tx.rows(
        f"SELECT {BUILD_COLUMNS} FROM builds WHERE app_uuid = $1 ORDER BY created DESC LIMIT $2 OFFSET $3",
        app_uuid,
        limit,
        offset,
    )
    return count, rows


# -- releases -------------------------------------------------------------------------------------


async def insert_release(
    tx: Tx,
    app_uuid: uuid.UUID,
    owner: str,
    *,
    version: int,
    summary: str,
    kind: str,
    generation: int,
    config_uuid: uuid.UUID,
    build_uuid: uuid.UUID | None,
) -> dict[str, Any]:
    row = await tx.row(
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
    assert row is not None
    return row


async def latest_version(tx: Tx, app_uuid: uuid.UUID) -> int:
    return int(await tx.val("SELECT coalesce(max(version), 0) FROM releases WHERE app_uuid = $1", app_uuid))


async def current(tx: Tx, app_uuid: uuid.UUID) -> dict[str, Any] | None:
    """The newest release that did not fail."""
    return await tx.row(
        f"SELECT {RELEASE_COLUMNS} FROM releases WHERE app_uuid = $1 AND NOT failed"
        " ORDER BY version DESC LIMIT 1",
        app_uuid,
    )


async def by_version(tx: Tx, app_uuid: uuid.UUID, version: int) -> dict[str, Any] | None:
    if not 0 <= version <= VERSION_MAX:
        return None  # no such release can exist, and Postgres would refuse the comparison
    return await tx.row(
        f"SELECT {RELEASE_COLUMNS} FROM releases WHERE app_uuid = $1 AND version = $2", app_uuid, version
    )


async def releases_page(
    tx: Tx, app_uuid: uuid.UUID, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    count = int(await tx.val("SELECT count(*) FROM releases WHERE app_uuid = $1", app_uuid))
    rows = await tx.rows(
        f"SELECT {RELEASE_COLUMNS} FROM releases WHERE app_uuid = $1"
        " ORDER BY version DESC LIMIT $2 OFFSET $3",
        app_uuid,
        limit,
        offset,
    )
    return count, rows


async def mark_failed(tx: Tx, release_uuid: uuid.UUID, summary: str) -> None:
    await tx.run(
        "UPDATE releases SET failed = true, summary = $2, updated = now() WHERE uuid = $1",
        release_uuid,
        summary,
    )


async def undeployed_at(tx: Tx, app_uuid: uuid.UUID, generation: int) -> dict[str, Any] | None:
    """The newest good release created at or before ``generation`` not yet marked deployed."""
    return await tx.row(
        f"SELECT {RELEASE_COLUMNS} FROM releases WHERE app_uuid = $1 AND NOT failed AND generation <= $2"
        " ORDER BY version DESC LIMIT 1 FOR UPDATE",
        app_uuid,
        generation,
    )


async def mark_deployed(tx: Tx, release_uuid: uuid.UUID) -> None:
    await tx.run("UPDATE releases SET deployed = true, updated = now() WHERE uuid = $1", release_uuid)


# -- image pulls handed to the builder ------------------------------------------------------------


async def add_pull(tx: Tx, build_id: str, app_uuid: uuid.UUID, owner: str, procfile: dict[str, str]) -> None:
    await tx.run(
        "INSERT INTO pulls (build_id, app_uuid, owner, procfile) VALUES ($1, $2, $3, $4)",
        build_id,
        app_uuid,
        owner,
        procfile,
    )


async def take_pull(tx: Tx, build_id: str) -> dict[str, Any] | None:
    return await tx.row("DELETE FROM pulls WHERE build_id = $1 RETURNING owner, procfile", build_id)
