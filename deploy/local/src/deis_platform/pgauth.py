"""Who may connect to the embedded PostgreSQL, and with which password (ARCHITECTURE §11).

Three roles, each with a password generated at the first ``up`` and kept in the platform dir (mode 0600):

- ``postgres``, the superuser: only the launcher logs in with it, to set up the other two;
- ``deis``, owner of the ``deis`` database, without any other right: the controller;
- ``deis_backup``, with REPLICATION: the backup service's base backups and its archiver checks.

``pg_hba.conf`` is rewritten on every ``up`` with scram-sha-256 lines only, each role limited to what it
uses. Before the server starts, the superuser's password is set in single-user mode (no connection, so
none needed); that is also how a data directory from an older version (trust authentication, no
password) or one restored from another platform dir's backups comes in line. Once the server answers,
``roles.sql`` (the same script the chart's Postgres pod runs) brings the other roles, the database and the
ownership of its objects in line.

Passwords never reach a command line or a log line: the server only ever sees SCRAM verifiers computed
here, and psql gets the superuser's password through ``PGPASSWORD``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import subprocess
from dataclasses import dataclass, fields
from pathlib import Path

from deis_platform.ports import HOST

SUPERUSER = "postgres"
CONTROLLER_ROLE = "deis"
BACKUP_ROLE = "deis_backup"
DATABASE = "deis"
ROLES_SQL = Path(__file__).with_name("roles.sql")
SCRAM_ITERATIONS = 4096

# The addresses the server listens on (it has no unix socket; the local lines cover one if enabled).
_LOOPBACK = ("127.0.0.1/32", "::1/128")
_HBA_RULES = (
    # (database, users): every other combination is refused
    ("all", SUPERUSER),
    (DATABASE, f"{CONTROLLER_ROLE},{BACKUP_ROLE}"),
    ("replication", BACKUP_ROLE),
)


class AuthSetupFailed(RuntimeError):
    """Setting a password or a role failed; the message carries no secret."""


@dataclass(frozen=True)
class DatabasePasswords:
    """The roles' passwords, as kept in ``<data dir>/postgres-credentials.json``."""

    superuser: str
    controller: str
    backup: str

    @classmethod
    def load_or_create(cls, path: Path) -> DatabasePasswords:
        """The kept passwords; any missing one (a fresh or an older platform dir) is generated and kept."""
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raw = {}
        kept = {f.name: str(raw[f.name]) for f in fields(cls) if raw.get(f.name)}
        passwords = cls(**{f.name: kept.get(f.name) or secrets.token_urlsafe(24) for f in fields(cls)})
        if len(kept) < len(fields(cls)):
            _write_private(path, json.dumps({f.name: getattr(passwords, f.name) for f in fields(cls)}) + "\n")
        elif path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return passwords

    def __repr__(self) -> str:  # keep the passwords out of tracebacks and debug prints
        return "DatabasePasswords(superuser=***, controller=***, backup=***)"


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with a file that is 0600 from its first byte."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier Postgres stores for ``password`` (RFC 5802, RFC 7677).

    ``ALTER ROLE ... PASSWORD '<verifier>'`` stores it as is, so the server never sees the password.
    Our passwords are ASCII, which SASLprep leaves unchanged.
    """
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def hba_conf() -> str:
    """``pg_hba.conf``: scram-sha-256 for every rule, nothing else is let in."""
    lines = [
        "# Written by deis-platform on every `up`: password (scram-sha-256) authentication only.",
        "# TYPE  DATABASE     USER                 ADDRESS          METHOD",
    ]
    for database, users in _HBA_RULES:
        lines.append(f"local   {database:<12} {users:<20} {'':<16} scram-sha-256")
        lines += [f"host    {database:<12} {users:<20} {address:<16} scram-sha-256" for address in _LOOPBACK]
    return "\n".join(lines) + "\n"


def write_hba(pgdata: Path) -> None:
    (pgdata / "pg_hba.conf").write_text(hba_conf())


def set_superuser_password(postgres_binary: str, pgdata: Path, password: str, user: str | None) -> None:
    """Give the superuser ``password``, with the server stopped (single-user mode: no login needed).

    ``user`` is the OS user the server runs as (None: ourselves).
    """
    statement = f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(password)}'\n"
    result = subprocess.run(
        [postgres_binary, "--single", "-D", str(pgdata), "-c", "log_min_error_statement=panic", "postgres"],
        input=statement,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or "ERROR:" in result.stderr or "FATAL:" in result.stderr:
        reason = "\n".join(line for line in result.stderr.splitlines() if "SCRAM-SHA-256$" not in line)
        raise AuthSetupFailed(f"setting the database superuser's password failed:\n{reason.strip()}")


def ensure_roles(psql_binary: str, port: int, passwords: DatabasePasswords) -> None:
    """Run ``roles.sql`` as the superuser: the ``deis`` and ``deis_backup`` roles with their passwords,
    the ``deis`` database owned by ``deis`` (and everything in it, also what an older version made)."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PGPASSWORD": passwords.superuser,
        "PGCONNECT_TIMEOUT": "10",
        "DATABASE_CONTROLLER_PASSWORD": scram_verifier(passwords.controller),
        "DATABASE_BACKUP_PASSWORD": scram_verifier(passwords.backup),
    }
    argv = [psql_binary, "-X", "-w", "-q", "-h", HOST, "-p", str(port), "-U", SUPERUSER, "-d", "postgres"]
    result = subprocess.run(
        [*argv, "-f", str(ROLES_SQL)], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AuthSetupFailed(f"setting up the database roles failed: {result.stderr.strip()}")
