"""The backup tool's error vocabulary.

Every failure a user or Postgres must see is one of these, with a message that says what went wrong and
where (which object, which data directory). :mod:`deis_backup.cli` maps them to exit codes.
"""

from __future__ import annotations

from deis_common.errors import DeisError


class BackupError(DeisError):
    """A backup, archive or restore step failed."""


class CorruptObject(BackupError):
    """An object in the store does not match the checksum recorded when it was written."""

    def __init__(self, bucket: str, key: str, detail: str) -> None:
        super().__init__(f"object {bucket}/{key} is corrupted: {detail}; refusing to use it")
        self.bucket = bucket
        self.key = key


class DamagedArchive(BackupError):
    """Verification found corrupted objects in the archive."""


class ArchiveConflict(BackupError):
    """A WAL file is already archived with different contents; overwriting it could lose history."""


class WalGap(BackupError):
    """A WAL segment is missing from the archive although later segments of its timeline exist."""


class NothingToRestore(BackupError):
    """No base backup in the store fits the request."""


class RecoveryFailed(BackupError):
    """Postgres could not replay the archived WAL onto the restored base backup."""
