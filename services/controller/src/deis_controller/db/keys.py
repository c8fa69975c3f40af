"""SSH public keys of users."""

from __future__ import annotations

import uuid

from deis_controller.db.pool import Tx
from deis_controller.records import Key

_COLUMNS = "uuid, id, owner, public, fingerprint, created, updated"


async def page(tx: Tx, owner: str, limit: int, offset: int) -> tuple[int, list[Key]]:
    count = int(await tx.val("SELECT count(*) FROM keys WHERE owner = $1", owner))
    rows = await tx.rows(
        f"SELECT {_COLUMNS} FROM keys WHERE owner = $1 ORDER BY public LIMIT $2 OFFSET $3",
        owner,
        limit,
        offset,
    )
    return count, [Key.from_row(r) for r in rows]


async def get(tx: Tx, owner: str, key_id: str) -> Key | None:
    row = await tx.row(f"SELECT {_COLUMNS} FROM keys WHERE owner = $1 AND id = $2", owner, key_id)
    return Key.from_row(row) if row is not None else None


async def exists(tx: Tx, *, key_id: str | None = None, public: str | None = None) -> bool:
    if key_id is not None:
        return bool(await tx.val("SELECT EXISTS (SELECT 1 FROM keys WHERE id = $1)", key_id))
    return bool(await tx.val("SELECT EXISTS (SELECT 1 FROM keys WHERE public = $1)", public))


async def create(tx: Tx, owner: str, key_id: str, public: str, fingerprint: str) -> Key:
    row = await tx.one(
        "INSERT INTO keys (uuid, id, owner, public, fingerprint) VALUES ($1, $2, $3, $4, $5)"
        f" RETURNING {_COLUMNS}",
        uuid.uuid4(),
        key_id,
        owner,
        public,
        fingerprint,
    )
    return Key.from_row(row)


async def delete(tx: Tx, owner: str, key_id: str) -> bool:
    return await tx.run("DELETE FROM keys WHERE owner = $1 AND id = $2", owner, key_id) != "DELETE 0"


async def owner_of_fingerprint(tx: Tx, fingerprint: str) -> str | None:
    value = await tx.val(
        "SELECT owner FROM keys WHERE fingerprint = $1 ORDER BY created LIMIT 1", fingerprint
    )
    return str(value) if value is not None else None


async def of_users(tx: Tx, usernames: list[str]) -> list[Key]:
    rows = await tx.rows(
        f"SELECT {_COLUMNS} FROM keys WHERE owner = ANY($1::text[]) ORDER BY created", usernames
    )
    return [Key.from_row(r) for r in rows]
