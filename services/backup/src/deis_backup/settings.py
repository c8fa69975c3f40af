"""Settings of the backup service and its command-line verbs.

Everything comes from ``DEIS_``-prefixed environment variables (``DEIS_DATABASE__URL``,
``DEIS_DATABASE__PASSWORD``, ``DEIS_BACKUP__FREQUENCY``, ``DEIS_STORE__*``), optionally completed by an
env file given with ``--config FILE`` (``KEY=value`` lines with the same names). Postgres runs
``deis-backup wal-push`` and ``wal-fetch`` itself, so those verbs see whatever environment the server was
started with, or the file. Real environment variables win over the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator

from deis_common.quantities import parse_duration
from deis_common.settings import ServiceSettings


class DatabaseSettings(BaseModel):
    url: str = Field(
        "postgresql://deis_backup@127.0.0.1:5432/deis",
        description=(
            "libpq URL of the platform database, as a role with REPLICATION (base backups connect here) "
            "that may read pg_stat_archiver"
        ),
    )
    password: SecretStr = Field(
        SecretStr(""),
        description=(
            "password of that role (DEIS_DATABASE__PASSWORD); handed to psql and pg_basebackup through "
            "their environment, never their command line. Empty: the one in the URL, if any"
        ),
    )

    def password_or_none(self) -> str | None:
        return self.password.get_secret_value() or None


class BackupSettings(BaseModel):
    data_dir: Path = Field(
        Path.home() / ".deis-platform" / "backup",
        description="scratch directory for downloads during a restore (needs room for one base backup)",
    )
    frequency: float = Field(
        4 * 3600.0,
        description="seconds between base backups taken by the service (accepts '4h', '30m', '90s')",
    )
    retain: int = Field(5, ge=1, description="base backups kept; older ones and their WAL are deleted")
    bucket: str = Field("database", description="store bucket holding base backups and WAL")
    compression_level: int = Field(3, ge=1, le=9, description="gzip level of base backups and WAL (1-9)")
    retry_delay: float = Field(
        300.0, description="seconds before the service retries a failed base backup (at most the frequency)"
    )
    archiver_check_interval: float = Field(
        30.0, description="seconds between reads of Postgres's archiver statistics (for the metrics)"
    )
    basebackup_timeout: float = Field(3600.0, description="seconds a base backup may take before it fails")
    recovery_timeout: float = Field(3600.0, description="seconds WAL replay may take during a restore")
    server_user: str | None = Field(
        None,
        description=(
            "OS user the Postgres server runs as; with the fs store and root, the WAL directory is handed "
            "to this user so archive_command can write it (default: embedded_postgres when root)"
        ),
    )

    @field_validator(
        "frequency",
        "retry_delay",
        "archiver_check_interval",
        "basebackup_timeout",
        "recovery_timeout",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


class BackupServiceSettings(ServiceSettings):
    """Settings of the ``backup`` service and of every ``deis-backup`` verb."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)


def load_settings(config_file: Path | None = None) -> BackupServiceSettings:
    """Settings from the environment, completed by ``config_file`` (an env file) when given."""
    if config_file is None:
        return BackupServiceSettings()
    if not config_file.is_file():
        raise FileNotFoundError(f"config file {config_file} does not exist")
    return BackupServiceSettings(_env_file=config_file)
