"""The test Postgres is the real thing: password (scram-sha-256) authentication only, owner roles without
superuser rights."""

from __future__ import annotations

import os
import subprocess
from urllib.parse import urlsplit

import asyncpg
import pytest

from deis_common.pgserver import PostgresCluster, binary


def _psql(
    cluster: PostgresCluster, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSFILE"] = os.devnull
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [binary("psql"), "-w", "-p", str(cluster.port), "-U", "postgres", "-d", "postgres", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


async def test_every_connection_needs_the_password(pg_cluster: PostgresCluster) -> None:
    assert pg_cluster.socket_dir is not None
    for host in ("127.0.0.1", str(pg_cluster.socket_dir)):
        without = _psql(pg_cluster, "-h", host, "-c", "SELECT 1")
        assert without.returncode != 0
        assert "no password supplied" in without.stderr, without.stderr
        wrong = _psql(pg_cluster, "-h", host, "-c", "SELECT 1", password="not-the-password")
        assert wrong.returncode != 0
        assert "password authentication failed" in wrong.stderr, wrong.stderr
        right = _psql(pg_cluster, "-h", host, "-tAc", "SELECT 1", password=pg_cluster.password)
        assert (right.returncode, right.stdout.strip()) == (0, "1"), right.stderr

    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(
            host="127.0.0.1", port=pg_cluster.port, user="postgres", password="wrong", database="postgres"
        )


async def test_the_server_has_no_trust_lines(pg_cluster: PostgresCluster) -> None:
    conn = await asyncpg.connect(pg_cluster.dsn)
    try:
        methods = {
            row["auth_method"] for row in await conn.fetch("SELECT auth_method FROM pg_hba_file_rules")
        }
    finally:
        await conn.close()
    assert methods == {"scram-sha-256"}


async def test_a_test_database_belongs_to_an_owner_role_without_superuser_rights(pg_dsn: str) -> None:
    user = urlsplit(pg_dsn).username
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT current_user") == user
        assert (
            await conn.fetchval(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            )
            == user
        )
        await conn.execute("CREATE TABLE mine (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE ROLE intruder LOGIN SUPERUSER")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("ALTER ROLE postgres PASSWORD 'taken'")
    finally:
        await conn.close()
