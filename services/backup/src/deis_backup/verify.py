"""Verification of the archive without restoring it: is the latest base backup, and every WAL file a
restore would replay after it, intact and complete?

A backup nobody has tried to restore is a hope, not a backup. ``deis-backup verify`` reads every object
a restore of the latest base backup would use, recomputes its checksum, and checks that the archived WAL
segments of each timeline form an unbroken sequence from the backup's start. It changes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

from deis_backup import catalog, checksums, wal
from deis_backup.errors import CorruptObject
from deis_common.errors import ObjectNotFound
from deis_common.store import ObjectStore


@dataclass
class Report:
    backup: str | None = None
    checked: int = 0
    corrupted: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.corrupted and not self.gaps


async def _verify_object(store: ObjectStore, bucket: str, key: str) -> None:
    """Stream the object through its checksum; nothing is kept."""
    expected = await checksums.read_digest(store, bucket, key)
    if expected is None:
        raise CorruptObject(bucket, key, "no checksum recorded (the upload never completed)")

    async def chunks() -> AsyncIterator[bytes]:
        async with aclosing(store.stream(bucket, key)) as stream:
            async for chunk in stream:
                yield chunk

    hashing = checksums.Hashing()
    async for chunk in chunks():
        hashing.update(chunk)
    checksums.compare(bucket, key, expected, hashing.digest())


def _next_segment(name: str) -> str:
    log_id, seg = int(name[8:16], 16), int(name[16:24], 16)
    return f"{name[:8]}{log_id:08X}{seg + 1:08X}"


def find_gaps(segments: list[str]) -> list[str]:
    """Holes in each timeline's run of segments (within one log id, where the arithmetic is certain)."""
    gaps = []
    by_timeline: dict[str, list[str]] = {}
    for name in sorted(segments):
        by_timeline.setdefault(name[:8], []).append(name)
    for names in by_timeline.values():
        for before, after in itertools.pairwise(names):
            expected = _next_segment(before)
            if before[8:16] == after[8:16] and after != expected:
                gaps.append(f"{expected}..{after} missing (after {before})")
    return gaps


async def verify_latest(store: ObjectStore, bucket: str) -> Report:
    """Check the latest base backup and the WAL archived since its start."""
    entries = await catalog.list_entries(store, bucket)
    info = catalog.choose(entries)  # raises on an empty catalog or a damaged latest entry
    report = Report(backup=info.name)
    keys = [catalog.data_key(info.name)]
    start = wal.position(info.start_segment) if info.start_segment else None
    segments = []
    for wal_file in await wal.list_files(store, bucket):
        at = wal.position(wal_file.name)
        if at is None or start is None or at >= start:
            keys.append(wal_file.key)
            if at is not None and len(wal_file.name) == 24:
                segments.append(wal_file.name)
    for key in keys:
        try:
            await _verify_object(store, bucket, key)
        except (CorruptObject, ObjectNotFound) as e:
            report.corrupted.append(str(e))
        report.checked += 1
    report.gaps = find_gaps(segments)
    return report
