"""Users and their API tokens."""

from __future__ import annotations

from deis_controller.db.pool import Tx
from deis_controller.records import Admin, User

_COLUMNS = (
    "id, username, email, first_name, last_name, password, is_superuser, is_staff, is_active,"
    " last_login, date_joined, token"
)


async def by_username(tx: Tx, username: str) -> User | None:
    row = await tx.row(f"SELECT {_COLUMNS} FROM users WHERE username = $1", username)
    return User.from_row(row) if row is not None else None


async def by_token_digest(tx: Tx, digest: str) -> User | None:
    row = await tx.row(f"SELECT {_COLUMNS} FROM users WHERE token_digest = $1", digest)
    return User.from_row(row) if row is not None else None


async def any_superuser(tx: Tx) -> bool:
    return bool(await tx.val("SELECT EXISTS (SELECT 1 FROM users WHERE is_superuser)"))


async def lock_registration(tx: Tx) -> None:
    """Serialise registrations so exactly one first user becomes admin."""
    await tx.val("SELECT pg_advisory_xact_lock(4242)")


async def create(
    tx: Tx,
    *,
    username: str,
    password: str,
    email: str,
    first_name: str,
    last_name: str,
    admin: bool,
    token: str,
    digest: str,
) -> User:
    row = await tx.one(
        "INSERT INTO users (username, password, email, first_name, last_name, is_superuser, is_staff,"
        f" token, token_digest) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) RETURNING {_COLUMNS}",
        username,
        password,
        email,
        first_name,
        last_name,
        admin,
        token,
        digest,
    )
    return User.from_row(row)


async def set_password(tx: Tx, username: str, password: str) -> None:
    await tx.run("UPDATE users SET password = $2 WHERE username = $1", username, password)


async def set_token(tx: Tx, username: str, token: str, digest: str) -> None:
    await tx.run(
        "UPDATE users SET token = $2, token_digest = $3 WHERE username = $1", username, token, digest
    )


async def touch_login(tx: Tx, username: str) -> None:
    await tx.run("UPDATE users SET last_login = now() WHERE username = $1", username)


async def set_admin(tx: Tx, username: str, admin: bool) -> None:
    await tx.run("UPDATE users SET is_superuser = $2, is_staff = $2 WHERE username = $1", username, admin)


async def page(tx: Tx, limit: int, offset: int) -> tuple[int, list[User]]:
    count = int(await tx.val("SELECT count(*) FROM users"))
    rows = await tx.rows(f"SELECT {_COLUMNS} FROM users ORDER BY id LIMIT $1 OFFSET $2", limit, offset)
    return count, [User.from_row(r) for r in rows]


async def admins_page(tx: Tx, limit: int, offset: int) -> tuple[int, list[Admin]]:
    where = "WHERE is_superuser AND is_active"
    count = int(await tx.val(f"SELECT count(*) FROM users {where}"))
    rows = await tx.rows(
        f"SELECT username, is_superuser FROM users {where} ORDER BY username LIMIT $1 OFFSET $2",
        limit,
        offset,
    )
    return count, [Admin(username=r["username"], is_superuser=r["is_superuser"]) for r in rows]


async def all_usernames(tx: Tx) -> list[str]:
    return [r["username"] for r in await tx.rows("SELECT username FROM users")]


async def owned_counts(tx: Tx, username: str) -> dict[str, int]:
    """How many records of each protected kind the user still owns."""
    row = await tx.one(
        "SELECT (SELECT count(*) FROM apps WHERE owner = $1) AS apps,"
        " (SELECT count(*) FROM certificates WHERE owner = $1) AS certs,"
        " (SELECT count(*) FROM builds WHERE owner = $1) AS builds,"
        " (SELECT count(*) FROM configs WHERE owner = $1) AS configs,"
        " (SELECT count(*) FROM releases WHERE owner = $1) AS releases,"
        " (SELECT count(*) FROM domains WHERE owner = $1) AS domains,"
        " (SELECT count(*) FROM app_settings WHERE owner = $1) AS settings,"
        " (SELECT count(*) FROM tls WHERE owner = $1) AS tls",
        username,
    )
    return {k: int(v) for k, v in row.items()}


async def delete(tx: Tx, username: str) -> None:
    await tx.run("DELETE FROM users WHERE username = $1", username)
