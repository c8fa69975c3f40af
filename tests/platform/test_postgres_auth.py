"""The embedded PostgreSQL takes passwords only, and each service logs in with a role of its own.

The unit tests check what the launcher writes. The platform here is brought up over a data directory the
way an older version left it (trust for every local connection, a superuser without a password, the
controller's tables owned by the superuser), so the upgrade is exercised along with the end state.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_launcher import PlatformDir, _running, data_dir

from deis_common import pgserver
from deis_common.pgserver import PostgresCluster
from deis_common.testing.ports import free_port
from deis_platform.components import build
from deis_platform.env_contract import ContractInputs
from deis_platform.layout import Layout
from deis_platform.pgauth import DatabasePasswords, hba_conf
from deis_platform.ports import DEFAULT_PORTS

OLD_TRUST_HBA = """\
local   all             all                                     trust
host    all             all             127.0.0.1/32            trust
host    all             all             ::1/128                 trust
local   replication     all                                     trust
host    replication     all             127.0.0.1/32            trust
host    replication     all             ::1/128                 trust
"""


def _rules(hba: str) -> list[list[str]]:
    return [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]


def test_pg_hba_has_password_lines_only_each_role_limited_to_what_it_uses() -> None:
    rules = _rules(hba_conf())

    assert {rule[-1] for rule in rules} == {"scram-sha-256"}
    assert {(rule[1], rule[2]) for rule in rules} == {
        ("all", "postgres"),
        ("deis", "deis,deis_backup"),
        ("replication", "deis_backup"),
    }
    assert {rule[3] for rule in rules if rule[0] == "host"} == {"127.0.0.1/32", "::1/128"}


def test_passwords_are_generated_once_kept_0600_and_completed_for_an_older_file(tmp_path: Path) -> None:
    path = tmp_path / "postgres-credentials.json"

    first = DatabasePasswords.load_or_create(path)
    again = DatabasePasswords.load_or_create(path)

    assert first == again
    assert len({first.superuser, first.controller, first.backup}) == 3
    assert path.stat().st_mode & 0o777 == 0o600
    assert first.superuser not in repr(first)

    path.write_text(json.dumps({"superuser": "kept"}))
    completed = DatabasePasswords.load_or_create(path)
    assert completed.superuser == "kept" and completed.controller and completed.backup
    assert DatabasePasswords.load_or_create(path) == completed
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_database_server_gets_the_store_settings_but_no_database_login(tmp_path: Path) -> None:
    passwords = DatabasePasswords(superuser="s", controller="c", backup="b")
    inputs = ContractInputs(
        data_dir=tmp_path,
        ports=DEFAULT_PORTS,
        domain="localhost",
        builder_key="k",
        database_passwords=passwords,
    )
    (server,) = [c for c in build(Layout(tmp_path), inputs, archive=True) if c.name == "postgres"]

    assert server.env["DEIS_STORE__PATH"] == str(tmp_path / "store")
    assert not [key for key in server.env if key.startswith("DEIS_DATABASE__")]


# -- a platform upgraded from a trust-authenticated data directory ---------------------------------------


def _psql(port: int, user: str, sql: str, password: str | None, database: str = "deis") -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSFILE"] = os.devnull
    if password is not None:
        env["PGPASSWORD"] = password
    argv = [
        pgserver.binary("psql"),
        "-X",
        "-w",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        user,
        "-d",
        database,
    ]
    result = subprocess.run(
        [*argv, "-v", "ON_ERROR_STOP=1", "-qtAc", sql],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


def _old_data_dir(pgdata: Path) -> None:
    """What an older launcher left: trust everywhere, no superuser password, tables of the superuser."""
    pgserver.initdb(pgdata, "replaced below")
    (pgdata / "pg_hba.conf").write_text(OLD_TRUST_HBA)
    old = PostgresCluster(data_dir=pgdata, port=free_port(), socket_dir=pgdata.parent / "old-socket")
    old.start(log_file=pgdata.parent / "old-server.log")
    try:
        for database, sql in (
            ("postgres", "ALTER ROLE postgres PASSWORD NULL"),
            ("postgres", "CREATE DATABASE deis"),
            ("deis", "CREATE TABLE notes (id serial PRIMARY KEY, body text)"),
            ("deis", "INSERT INTO notes (body) VALUES ('written before the upgrade')"),
        ):
            code, out = _psql(old.port, "postgres", sql, None, database)
            assert code == 0, out
    finally:
        old.stop()


@pytest.fixture(scope="module")
def upgraded() -> Iterator[PlatformDir]:
    with data_dir() as root:
        _old_data_dir(root / "postgres")
        yield from _running(PlatformDir(root))


def test_an_older_data_dir_keeps_its_data_and_gets_password_lines_only(upgraded: PlatformDir) -> None:
    passwords = upgraded.passwords

    assert upgraded.sql("SELECT body FROM notes") == "written before the upgrade"
    assert upgraded.sql("SELECT DISTINCT auth_method FROM pg_hba_file_rules") == "scram-sha-256"
    assert "trust" not in (upgraded.root / "postgres" / "pg_hba.conf").read_text()
    # the controller's role owns the database and what the superuser made in it
    owners = upgraded.sql(
        "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace"
    )
    assert owners == "deis"
    assert upgraded.sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'deis'") == "deis"
    code, out = _psql(
        upgraded.state["ports"]["postgres"], "deis", "SELECT body FROM notes", passwords["controller"]
    )
    assert (code, out) == (0, "written before the upgrade")


def test_a_connection_without_the_password_or_with_a_wrong_one_is_refused(upgraded: PlatformDir) -> None:
    port = upgraded.state["ports"]["postgres"]

    for user, database in (("postgres", "postgres"), ("deis", "deis"), ("deis_backup", "deis")):
        code, out = _psql(port, user, "SELECT 1", None, database)
        assert code != 0 and "no password supplied" in out, (user, out)
        code, out = _psql(port, user, "SELECT 1", "not-the-password", database)
        assert code != 0 and "password authentication failed" in out, (user, out)
    code, out = _psql(port, "postgres", "SELECT 1", upgraded.passwords["superuser"], "postgres")
    assert (code, out) == (0, "1")


def test_the_controller_role_owns_its_database_and_can_do_nothing_more(upgraded: PlatformDir) -> None:
    port = upgraded.state["ports"]["postgres"]
    password = upgraded.passwords["controller"]

    for statement in ("CREATE ROLE intruder LOGIN", "ALTER ROLE deis SUPERUSER", "CREATE DATABASE other"):
        code, out = _psql(port, "deis", statement, password)
        assert code != 0 and "permission denied" in out, (statement, out)
    code, out = _psql(port, "deis", "SELECT 1", password, "postgres")
    assert code != 0 and "no pg_hba.conf entry" in out, out
    # the controller ran its migrations as this role
    code, out = _psql(
        port, "deis", "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'apps'", password
    )
    assert (code, out) == (0, "deis")


def test_the_backup_role_takes_base_backups_but_reads_no_table(upgraded: PlatformDir) -> None:
    port = upgraded.state["ports"]["postgres"]
    code, out = _psql(port, "deis_backup", "SELECT body FROM notes", upgraded.passwords["backup"])
    assert code != 0 and "permission denied" in out, out

    # the backup service takes a base backup (pg_basebackup, as deis_backup) when it starts
    backups = upgraded.root / "store" / "database" / "basebackups"
    deadline = time.monotonic() + 60
    while not any(backups.glob("*/base.tar.gz")):
        assert time.monotonic() < deadline, upgraded.run("logs", "backup", "-n", "40").stdout
        time.sleep(0.2)


def test_the_passwords_are_kept_0600_and_shown_nowhere(upgraded: PlatformDir) -> None:
    credentials = upgraded.root / "postgres-credentials.json"
    secrets = list(upgraded.passwords.values())

    assert credentials.stat().st_mode & 0o777 == 0o600
    shown = [
        upgraded.run("status").stdout,
        upgraded.up().stdout,
        (upgraded.root / "platform.json").read_text(),
        *(path.read_text(errors="replace") for path in (upgraded.root / "logs").glob("*.log*")),
    ]
    # nor on a command line anyone on the host can read
    for pid in upgraded.state["pids"].values():
        if pid:
            shown.append(Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"))
    for text in shown:
        for secret in secrets:
            assert secret not in text
