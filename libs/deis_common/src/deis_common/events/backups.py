"""Events of the ``backups`` family: base backups of the platform database."""

from __future__ import annotations

from deis_common.events.base import Event


class BackupCompleted(Event):
    subject = "deis.v1.backups.completed"

    name: str
    size_bytes: int
    duration_seconds: float


class BackupFailed(Event):
    subject = "deis.v1.backups.failed"

    reason: str
