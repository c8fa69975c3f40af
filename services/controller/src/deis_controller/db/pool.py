"""The Postgres adapter: a connection pool, transactions and the query primitives the repositories use.

asyncpg stays inside this package. Rows come back as plain dicts (jsonb decoded), and driver errors are
re-raised as :class:`DatabaseError` / :class:`UniqueViolation` so callers never see asyncpg types.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pydantic_core

from deis_common.errors import DeisError


class DatabaseError(DeisError):
    """The database refused or failed a statement."""


class UniqueViolation(DatabaseError):
    def __init__(self, constraint: str, message: str) -> None:
        super().__init__(message)
        self.constraint = constraint


async def _init_connection(conn: asyncpg.Connection) -> None:
    # pydantic's Rust parser reads jsonb several times faster than json.loads (snapshots read a lot of it)
    await conn.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=pydantic_core.from_json, schema="pg_catalog"
    )


def _translate(e: asyncpg.PostgresError) -> DatabaseError:
    if isinstance(e, asyncpg.UniqueViolationError):
        return UniqueViolation(e.constraint_name or "", str(e))
    return DatabaseError(str(e))


class Tx:
    """One connection inside a transaction (or a plain connection for reads)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        try:
            return [dict(r) for r in await self._conn.fetch(sql, *args)]
        except asyncpg.PostgresError as e:
            raise _translate(e) from e

    async def row(self, sql: str, *args: Any) -> dict[str, Any] | None:
        try:
            found = await self._conn.fetchrow(sql, *args)
        except asyncpg.PostgresError as e:
            raise _translate(e) from e
        return dict(found) if found is not None else None

    async def one(self, sql: str, *args: Any) -> dict[str, Any]:
        """The row a statement that always yields one returns (an INSERT ... RETURNING, a lookup by a
        key a foreign key guarantees)."""
        found = await self.row(sql, *args)
        if found is None:
            raise DatabaseError(f"no row where one was certain: {sql.split()[0]}")
        return found

    async def val(self, sql: str, *args: Any) -> Any:
        try:
            return await self._conn.fetchval(sql, *args)
        except asyncpg.PostgresError as e:
            raise _translate(e) from e

    async def run(self, sql: str, *args: Any) -> str:
        try:
            return str(await self._conn.execute(sql, *args))
        except asyncpg.PostgresError as e:
            raise _translate(e) from e

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[Tx]:
        """A nested transaction: an error inside rolls back only what happened inside."""
        async with self._conn.transaction():
            yield self


class Database:
    """The pool; ``transaction()`` is the unit of work, ``read()`` a connection without one."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, url: str, *, password: str | None = None, min_size: int = 1, max_size: int = 10
    ) -> AsyncIterator[Database]:
        """``password``, when given, is the role's password (taking precedence over one in ``url``)."""
        try:
            pool = await asyncpg.create_pool(
                url, password=password, min_size=min_size, max_size=max_size, init=_init_connection
            )
        except (OSError, asyncpg.PostgresError) as e:
            raise DatabaseError(f"cannot connect to the database: {e}") from e
        try:
            yield cls(pool)
        finally:
            await pool.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield Tx(conn)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        async with self._pool.acquire() as conn:
            yield Tx(conn)

    async def ping(self) -> bool:
        async with self.read() as tx:
            return bool(await tx.val("SELECT 1") == 1)
