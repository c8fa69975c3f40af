"""Versioned SQL migrations applied at start, recorded in ``schema_migrations``.

Files ``migrations/NNNN_<name>.sql`` run in order, each in its own transaction, under an advisory lock
so replicas starting together apply each migration exactly once.
"""

from __future__ import annotations

from importlib import resources

import structlog

from deis_controller.db.pool import Database

log = structlog.get_logger(__name__)

_LOCK_KEY = 0x0DE15C0
_migrations = resources.files("deis_controller.db") / "migrations"


def available() -> list[tuple[str, str]]:
    files = sorted((f for f in _migrations.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in files]


async def migrate(db: Database) -> list[str]:
    """Apply every migration not applied yet; returns the names applied now."""
    applied_now: list[str] = []
    async with db.transaction() as tx:
        await tx.val("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await tx.run(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await tx.rows("SELECT name FROM schema_migrations")}
        for name, sql in available():
            if name in done:
                continue
            async with tx.savepoint():
                await tx.run(sql)
                await tx.run("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied_now.append(name)
            log.info("db.migrated", migration=name)
    return applied_now
