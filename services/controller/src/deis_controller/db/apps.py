"""Apps, their collaborators, generation counter, structure and last reported processes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from deis_controller.db.pool import Tx
from deis_controller.records import App

_COLUMNS = "uuid, id, owner, structure, generation, processes, created, updated"


async def get(tx: Tx, app_id: str, *, lock: bool = False) -> App | None:
    suffix = " FOR UPDATE" if lock else ""
    row = await tx.row(f"SELECT {_COLUMNS} FROM apps WHERE id = $1{suffix}", app_id)
    return App.from_row(row) if row is not None else None


async def exists(tx: Tx, app_id: str) -> bool:
    return bool(await tx.val("SELECT EXISTS (SELECT 1 FROM apps WHERE id = $1)", app_id))


async def create(tx: Tx, app_id: str, owner: str) -> App:
    row = await tx.one(
        f"INSERT INTO apps (uuid, id, owner) VALUES ($1, $2, $3) RETURNING {_COLUMNS}",
        uuid.uuid4(),
        app_id,
        owner,
    )
    return App.from_row(row)


async def page_visible(tx: Tx, username: str, admin: bool, limit: int, offset: int) -> tuple[int, list[App]]:
    if admin:
        count = int(await tx.val("SELECT count(*) FROM apps"))
        rows = await tx.rows(f"SELECT {_COLUMNS} FROM apps ORDER BY id LIMIT $1 OFFSET $2", limit, offset)
        return count, [App.from_row(r) for r in rows]
    visible = "FROM apps WHERE owner = $1 OR uuid IN (SELECT app_uuid FROM app_perms WHERE username = $1)"
    count = int(await tx.val(f"SELECT count(*) {visible}", username))
    rows = await tx.rows(
        f"SELECT {_COLUMNS} {visible} ORDER BY id LIMIT $2 OFFSET $3", username, limit, offset
    )
    return count, [App.from_row(r) for r in rows]


async def all_ids(tx: Tx) -> list[str]:
    return [r["id"] for r in await tx.rows("SELECT id FROM apps ORDER BY id")]


async def is_collaborator(tx: Tx, app_uuid: uuid.UUID, username: str) -> bool:
    return bool(
        await tx.val(
            "SELECT EXISTS (SELECT 1 FROM app_perms WHERE app_uuid = $1 AND username = $2)",
            app_uuid,
            username,
        )
    )


async def collaborators(tx: Tx, app_uuid: uuid.UUID) -> list[str]:
    rows = await tx.rows("SELECT username FROM app_perms WHERE app_uuid = $1 ORDER BY created", app_uuid)
    return [r["username"] for r in rows]


async def grant(tx: Tx, app_uuid: uuid.UUID, username: str) -> None:
    await tx.run(
        "INSERT INTO app_perms (app_uuid, username) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        app_uuid,
        username,
    )


async def revoke(tx: Tx, app_uuid: uuid.UUID, username: str) -> bool:
    done = await tx.run("DELETE FROM app_perms WHERE app_uuid = $1 AND username = $2", app_uuid, username)
    return done != "DELETE 0"


async def transfer(tx: Tx, app_uuid: uuid.UUID, old_owner: str, new_owner: str) -> None:
    """New owner of the app and of the app's records the previous owner had created."""
    await tx.run("UPDATE apps SET owner = $2, updated = now() WHERE uuid = $1", app_uuid, new_owner)
    for table in ("app_settings", "builds", "configs", "domains", "releases", "tls"):
        await tx.run(
            f"UPDATE {table} SET owner = $3 WHERE app_uuid = $1 AND owner = $2",
            app_uuid,
            old_owner,
            new_owner,
        )


async def delete(tx: Tx, app_uuid: uuid.UUID) -> None:
    await tx.run("DELETE FROM releases WHERE app_uuid = $1", app_uuid)
    await tx.run("DELETE FROM apps WHERE uuid = $1", app_uuid)


async def bump_generation(tx: Tx, app_uuid: uuid.UUID) -> App:
    """The app with its next generation."""
    row = await tx.one(
        "UPDATE apps SET generation = generation + 1, updated = now() WHERE uuid = $1"
        f" RETURNING {_COLUMNS}",
        app_uuid,
    )
    return App.from_row(row)


async def set_structure(tx: Tx, app_uuid: uuid.UUID, structure: Mapping[str, int]) -> App:
    row = await tx.one(
        f"UPDATE apps SET structure = $2, updated = now() WHERE uuid = $1 RETURNING {_COLUMNS}",
        app_uuid,
        dict(structure),
    )
    return App.from_row(row)


async def set_healthy(
    tx: Tx, app_id: str, generation: int, endpoints: list[str], processes: list[dict[str, Any]]
) -> None:
    """Record a ``containers.healthy``: its processes; its endpoints unless a newer generation's are in."""
    await tx.run(
        "UPDATE apps SET processes = $2,"
        " endpoints = CASE WHEN $3 >= endpoints_generation THEN $4::jsonb ELSE endpoints END,"
        " endpoints_generation = GREATEST(endpoints_generation, $3) WHERE id = $1",
        app_id,
        processes,
        generation,
        endpoints,
    )
