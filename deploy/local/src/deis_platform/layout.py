"""Where everything lives inside the platform data directory.

The launcher owns one directory (``~/.deis-platform`` or ``--data-dir``). Every path the launcher, the
generated supervisord config and the service environment refer to is named here once, so that `up`,
`down`, `status` and `logs` agree on them and a reader can see the whole on-disk layout at a glance.
This module only computes paths and creates directories; it never starts or inspects processes.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("~/.deis-platform")

# AF_UNIX paths are limited to 108 bytes on Linux (104 on macOS); keep a margin.
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class Layout:
    """Paths under one platform data directory."""

    root: Path

    @classmethod
    def at(cls, data_dir: Path | None) -> Layout:
        return cls((data_dir or DEFAULT_DATA_DIR).expanduser().resolve())

    # -- state the launcher keeps -------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.root / "platform.json"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def nats_credentials(self) -> Path:
        """The NATS users' passwords (0600, see :mod:`deis_common.natsauth`)."""
        return self.root / "nats-credentials.json"

    @property
    def postgres_credentials(self) -> Path:
        """The database roles' passwords (0600, see :mod:`deis_platform.pgauth`)."""
        return self.root / "postgres-credentials.json"

    # -- supervisord --------------------------------------------------------------------------------------
    @property
    def supervisor_dir(self) -> Path:
        return self.root / "supervisor"

    @property
    def supervisord_conf(self) -> Path:
        return self.supervisor_dir / "supervisord.conf"

    @property
    def supervisord_pid(self) -> Path:
        return self.supervisor_dir / "supervisord.pid"

    @property
    def supervisor_socket(self) -> Path:
        """The control socket; moved to the temp dir when the data dir path is too long for AF_UNIX."""
        preferred = self.supervisor_dir / "supervisor.sock"
        if len(str(preferred).encode()) <= _MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"deis-platform-{digest}.sock"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def log_file(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"

    # -- component data -----------------------------------------------------------------------------------
    @property
    def nats_dir(self) -> Path:
        return self.root / "nats"

    @property
    def nats_config(self) -> Path:
        """nats-server's config: the users and their permissions, written at every ``up`` (0600)."""
        return self.nats_dir / "nats-server.conf"

    @property
    def pgdata(self) -> Path:
        return self.root / "postgres"

    @property
    def router_prefix(self) -> Path:
        return self.root / "router"

    @property
    def store_dir(self) -> Path:
        return self.root / "store"

    @property
    def builder_dir(self) -> Path:
        return self.root / "builder"

    @property
    def scheduler_dir(self) -> Path:
        return self.root / "scheduler"

    @property
    def backup_dir(self) -> Path:
        return self.root / "backup"

    def create(self) -> None:
        """Create every directory the launcher and the services expect (pgdata is left to initdb)."""
        for path in (
            self.root,
            self.supervisor_dir,
            self.logs_dir,
            self.nats_dir,
            self.router_prefix,
            self.store_dir,
            self.builder_dir,
            self.scheduler_dir,
            self.backup_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
