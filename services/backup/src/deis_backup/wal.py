"""WAL archiving: Postgres's ``archive_command`` and ``restore_command`` in terms of the object store.

``wal-push`` stores one finished WAL file (a segment, a ``.history``, ``.partial`` or ``.backup`` file)
gzip-compressed under ``wal/<name>.gz`` with a checksum sidecar. Pushing a file that is already archived
with the same contents succeeds (Postgres retries after crashes); different contents are refused, since
overwriting archived history could lose data.

``wal-fetch`` is the reverse. Its outcomes matter to Postgres: "not archived" (the normal end of replay)
is distinct from every other failure (a corrupted object, an unreachable store, or a *gap*: a missing
segment although later segments of the same timeline exist). Postgres must abort recovery on the latter
rather than stop replay early and silently drop the rest of the history; :mod:`deis_backup.cli` maps them
to the exit codes that achieve that.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import zlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from deis_backup import checksums
from deis_backup.errors import ArchiveConflict, BackupError, CorruptObject, WalGap
from deis_common.errors import ObjectNotFound
from deis_common.store import ObjectStore

WAL_PREFIX = "wal/"
SUFFIX = ".gz"
_SEGMENT = re.compile(r"[0-9A-F]{24}")
# Segments, timeline history files, and the .partial / .backup files Postgres also archives.
_WAL_FILE = re.compile(r"[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?|[0-9A-F]{8}\.history")


class PushOutcome(Enum):
    ARCHIVED = "archived"
    ALREADY_ARCHIVED = "already archived"


@dataclass(frozen=True)
class WalFile:
    name: str
    key: str


def wal_key(name: str) -> str:
    if not _WAL_FILE.fullmatch(name):
        raise BackupError(f"{name!r} is not the name of a WAL file (segment, .history, .partial or .backup)")
    return f"{WAL_PREFIX}{name}{SUFFIX}"


def name_of(key: str) -> str | None:
    """The WAL file name stored under ``key``, or None for keys that are not archived WAL files."""
    if not key.startswith(WAL_PREFIX) or not key.endswith(SUFFIX):
        return None
    name = key[len(WAL_PREFIX) : -len(SUFFIX)]
    return name if _WAL_FILE.fullmatch(name) else None


def position(name: str) -> str | None:
    """The timeline-independent position of a segment-based WAL file (log and segment number), or None."""
    return name[8:24] if _SEGMENT.fullmatch(name[:24]) and not name.endswith(".history") else None


def compress(data: bytes, level: int) -> bytes:
    # mtime=0: the same segment always compresses to the same bytes, so a re-push is recognised cheaply.
    return gzip.compress(data, compresslevel=level, mtime=0)


def decompress(bucket: str, key: str, data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise CorruptObject(bucket, key, f"not a valid gzip stream ({e})") from e


async def push(store: ObjectStore, bucket: str, path: Path, *, level: int) -> PushOutcome:
    """Archive the WAL file at ``path`` (relative paths are relative to the Postgres data directory)."""
    key = wal_key(path.name)
    try:
        raw = await asyncio.to_thread(path.read_bytes)
    except OSError as e:
        raise BackupError(f"cannot read WAL file {path}: {e}") from e
    stored = await asyncio.to_thread(compress, raw, level)
    existing = await checksums.read_digest(store, bucket, key)
    if existing is not None:
        if existing == checksums.digest_of(stored):
            return PushOutcome.ALREADY_ARCHIVED
        try:
            archived = decompress(bucket, key, await checksums.get_checked(store, bucket, key))
        except (CorruptObject, ObjectNotFound):
            archived = None  # a damaged or half-deleted copy: replacing it with the real file repairs it
        if archived == raw:
            return PushOutcome.ALREADY_ARCHIVED
        if archived is not None:
            raise ArchiveConflict(
                f"WAL file {path.name} is already archived with different contents; refusing to overwrite "
                f"{bucket}/{key} (is another cluster archiving into the same bucket?)"
            )
    await checksums.put_checked(store, bucket, key, stored)
    return PushOutcome.ARCHIVED


async def fetch(store: ObjectStore, bucket: str, name: str, dest: Path) -> None:
    """Restore WAL file ``name`` to ``dest``.

    Raises :class:`ObjectNotFound` when it was never archived (and nothing after it was), and
    :class:`CorruptObject` / :class:`WalGap` / store errors otherwise.
    """
    key = wal_key(name)
    if await checksums.read_digest(store, bucket, key) is None:
        later = await _later_segment(store, bucket, name)
        if later is not None:
            raise WalGap(
                f"WAL segment {name} is missing from {bucket}/{WAL_PREFIX} but the later segment {later} "
                "of the same timeline is archived: the archive has a hole, replay would lose data"
            )
        raise ObjectNotFound(bucket, key)
    raw = decompress(bucket, key, await checksums.get_checked(store, bucket, key))
    await asyncio.to_thread(_write_atomically, dest, raw)


def _write_atomically(dest: Path, data: bytes) -> None:
    temp = dest.with_name(f".{dest.name}.deis-backup-tmp")
    with temp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, dest)


async def _later_segment(store: ObjectStore, bucket: str, name: str) -> str | None:
    if not _SEGMENT.fullmatch(name):
        return None
    for key in await store.list(bucket, WAL_PREFIX + name[:8]):
        other = name_of(key)
        if (
            other is not None
            and _SEGMENT.fullmatch(other)
            and other > name
            and await checksums.read_digest(store, bucket, key) is not None
        ):
            return other
    return None


async def list_files(store: ObjectStore, bucket: str) -> list[WalFile]:
    """Every archived WAL file, in name order."""
    files = []
    for key in await store.list(bucket, WAL_PREFIX):
        name = name_of(key)
        if name is not None:
            files.append(WalFile(name=name, key=key))
    return files


async def delete_before(store: ObjectStore, bucket: str, start_segment: str) -> int:
    """Delete archived WAL older than ``start_segment`` on every timeline, keeping history files.

    Returns how many files were deleted.
    """
    limit = position(start_segment)
    if limit is None:
        raise BackupError(f"{start_segment!r} is not a WAL segment name")
    deleted = 0
    for wal_file in await list_files(store, bucket):
        at = position(wal_file.name)
        if at is not None and at < limit:
            await checksums.delete_checked(store, bucket, wal_file.key)
            deleted += 1
    return deleted
