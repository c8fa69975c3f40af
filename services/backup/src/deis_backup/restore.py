"""Restore: a base backup from the store into an empty data directory, then WAL replay up to the end of
the archive or to a point in time.

Either the restore succeeds and the data directory holds a recovered cluster, or it fails with a
reason and the data directory is left empty (never half restored: the platform would otherwise start
on it). Every object is verified against its checksum before it is used: the base backup is downloaded
to scratch space and checked before a single file is extracted; each WAL segment is checked by
``wal-fetch`` before Postgres sees it.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog

from deis_backup import catalog, checksums, recovery
from deis_backup.catalog import BackupInfo
from deis_backup.errors import BackupError, CorruptObject
from deis_backup.server_user import chown_tree, make_traversable
from deis_common.store import ObjectStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RestoreRequest:
    data_dir: Path
    scratch_dir: Path
    target_time: datetime | None = None
    backup_name: str | None = None
    replay: bool = True
    command: str = ""
    """How Postgres calls ``deis-backup`` (see :func:`deis_backup.recovery.self_command`)."""
    user: str | None = None
    recovery_timeout: float = 3600.0


def check_empty(data_dir: Path) -> None:
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(
            f"data directory {data_dir} is not empty; a restore only fills an empty (or missing) directory"
        )


async def restore(store: ObjectStore, bucket: str, request: RestoreRequest) -> BackupInfo:
    """Restore into ``request.data_dir``; returns the base backup that was used."""
    data_dir = request.data_dir
    check_empty(data_dir)
    entries = await catalog.list_entries(store, bucket)
    info = catalog.choose(entries, target_time=request.target_time, name=request.backup_name)
    if request.target_time is not None and request.target_time <= info.finished_at:
        raise BackupError(
            f"target time {request.target_time.isoformat()} is before base backup {info.name} ended"
        )
    request.scratch_dir.mkdir(parents=True, exist_ok=True)
    archive = request.scratch_dir / f"restore-{info.name}.tar.gz"
    log.info("backup.restore_started", backup=info.name, data_dir=str(data_dir))
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        digest = await checksums.get_file_checked(store, bucket, catalog.data_key(info.name), archive)
        if digest.sha256 != info.sha256:
            raise CorruptObject(
                bucket, catalog.data_key(info.name), "checksum differs from the catalog entry"
            )
        await asyncio.to_thread(_extract, archive, data_dir, bucket, catalog.data_key(info.name))
        archive.unlink(missing_ok=True)
        data_dir.chmod(0o700)
        if request.user is not None:
            chown_tree(data_dir, request.user)
            make_traversable(data_dir.parent)
        if request.replay:
            await recovery.replay(
                recovery.Replay(
                    data_dir=data_dir,
                    command=request.command,
                    target_time=request.target_time,
                    user=request.user,
                    timeout=request.recovery_timeout,
                    log_path=request.scratch_dir / f"restore-{info.name}.log",
                )
            )
    except BaseException:
        archive.unlink(missing_ok=True)
        _empty(data_dir)
        raise
    log.info("backup.restore_finished", backup=info.name, data_dir=str(data_dir))
    return info


def _extract(archive: Path, data_dir: Path, bucket: str, key: str) -> None:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(data_dir, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise CorruptObject(bucket, key, f"the archive cannot be read ({e})") from e
    except OSError as e:
        raise BackupError(f"cannot extract the base backup into {data_dir}: {e}") from e


def _empty(data_dir: Path) -> None:
    if not data_dir.is_dir():
        return
    for child in data_dir.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
