"""The catalog of base backups in the store: naming, listing, choosing one to restore, retention.

Layout in the ``database`` bucket (one prefix per base backup, named for its start time in UTC)::

    basebackups/<name>/base.tar.gz          pg_basebackup's tar, gzip-compressed (+ .sha256 sidecar)
    basebackups/<name>/backup.json          BackupInfo, written last: a backup without it never finished
    wal/<segment>.gz                        archived WAL (see deis_backup.wal)

A catalog entry whose ``backup.json`` is damaged is still listed (``damaged`` says why), so that neither
a restore nor retention silently skips over it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ValidationError

from deis_backup import checksums, wal
from deis_backup.errors import CorruptObject, DamagedArchive, NothingToRestore
from deis_common.errors import ObjectNotFound
from deis_common.store import ObjectStore

PREFIX = "basebackups/"
DATA = "base.tar.gz"
META = "backup.json"
_NAME_FORMAT = "%Y%m%dT%H%M%S.%fZ"


class BackupInfo(BaseModel):
    """What is recorded about one finished base backup."""

    name: str
    started_at: datetime
    finished_at: datetime
    start_segment: str | None = None
    """WAL segment holding the backup's start (redo) point: WAL before it is not needed to restore it."""
    timeline: int | None = None
    size_bytes: int
    """Compressed size in the store."""
    raw_size_bytes: int
    sha256: str
    duration_seconds: float


@dataclass(frozen=True)
class Entry:
    """A base backup as listed: its info, or why its catalog entry cannot be read."""

    name: str
    info: BackupInfo | None
    damaged: str | None = None

    @property
    def started_at(self) -> datetime:
        return self.info.started_at if self.info else name_time(self.name)

    @property
    def finished_at(self) -> datetime:
        return self.info.finished_at if self.info else name_time(self.name)


def new_name(started_at: datetime) -> str:
    return started_at.astimezone(UTC).strftime(_NAME_FORMAT)


def name_time(name: str) -> datetime:
    return datetime.strptime(name, _NAME_FORMAT).replace(tzinfo=UTC)


def data_key(name: str) -> str:
    return f"{PREFIX}{name}/{DATA}"


def meta_key(name: str) -> str:
    return f"{PREFIX}{name}/{META}"


async def record(store: ObjectStore, bucket: str, info: BackupInfo) -> None:
    """Write the catalog entry that marks ``info.name`` as a finished backup."""
    await checksums.put_checked(store, bucket, meta_key(info.name), info.model_dump_json().encode())


async def list_entries(store: ObjectStore, bucket: str) -> list[Entry]:
    """Every finished base backup, oldest first."""
    entries = []
    for key in await store.list(bucket, PREFIX):
        if not key.endswith("/" + META):
            continue
        name = key[len(PREFIX) : -len(META) - 1]
        try:
            name_time(name)
        except ValueError:
            continue  # not ours
        try:
            info = BackupInfo.model_validate_json(await checksums.get_checked(store, bucket, key))
            entries.append(Entry(name=name, info=info))
        except CorruptObject as e:
            entries.append(Entry(name=name, info=None, damaged=str(e)))
        except ValidationError as e:
            entries.append(Entry(name=name, info=None, damaged=f"catalog entry {key} is unreadable: {e}"))
        except ObjectNotFound:
            continue  # deleted while we listed
    return sorted(entries, key=lambda entry: entry.name)


def choose(
    entries: list[Entry], *, target_time: datetime | None = None, name: str | None = None
) -> BackupInfo:
    """The base backup to restore: ``name``, or the latest one (finished before ``target_time``)."""
    if name is not None:
        matching = [entry for entry in entries if entry.name == name]
        if not matching:
            raise NothingToRestore(f"no base backup named {name!r} in the store")
        candidates = matching
    elif target_time is not None:
        candidates = [entry for entry in entries if entry.finished_at < target_time]
        if not candidates:
            first = f"; the oldest finished at {entries[0].finished_at.isoformat()}" if entries else ""
            raise NothingToRestore(f"no base backup finished before {target_time.isoformat()}{first}")
    else:
        candidates = entries
        if not candidates:
            raise NothingToRestore("no base backup in the store")
    chosen = candidates[-1]
    if chosen.info is None:
        raise DamagedArchive(f"{chosen.damaged}; restore an older backup explicitly with --backup NAME")
    return chosen.info


@dataclass(frozen=True)
class Pruned:
    backups: list[str]
    wal_files: int


async def prune(store: ObjectStore, bucket: str, retain: int) -> Pruned:
    """Keep the newest ``retain`` base backups; delete older ones and the WAL only they needed."""
    if retain < 1:
        raise ValueError("retain must be at least 1")
    entries = await list_entries(store, bucket)
    doomed, kept = entries[:-retain], entries[-retain:]
    for entry in doomed:
        await checksums.delete_checked(store, bucket, meta_key(entry.name))
        await store.delete_prefix(bucket, f"{PREFIX}{entry.name}/")
    wal_files = 0
    oldest = kept[0] if kept else None
    # Without a readable start segment for the oldest kept backup, every WAL file might still be needed.
    if oldest is not None and oldest.info is not None and oldest.info.start_segment is not None:
        wal_files = await wal.delete_before(store, bucket, oldest.info.start_segment)
    return Pruned(backups=[entry.name for entry in doomed], wal_files=wal_files)
