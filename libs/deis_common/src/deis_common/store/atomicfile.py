"""Atomic replacement of a local file, shared by the fs driver and every driver's ``get_file``.

A reader of the target path must see the old file or the complete new one, never a half-written file,
and a crash or a cancelled copy must not leave garbage under the target name. :class:`AtomicFile` owns
that protocol: write a temporary file in the target's directory, fsync it, rename it over the target,
fsync the directory. Its methods block; async callers run them in a thread (:func:`write_chunks` does).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO

from deis_common.errors import StoreError

#: Temporary files end with this; the fs driver hides them from listings and refuses keys that mimic them.
TEMP_SUFFIX = ".deis-tmp"


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


class AtomicFile:
    """A new version of ``target``, invisible until :meth:`commit`.

    ``open`` creates missing parent directories. After ``commit`` or ``abort`` the object is spent.
    """

    def __init__(self, target: Path, mode: int = 0o644) -> None:
        self.target = target
        self._mode = mode
        self._file: BinaryIO | None = None
        self._temp: Path | None = None

    def open(self) -> None:
        parent = self.target.parent
        # A concurrent delete may prune an empty parent directory between mkdir and mkstemp; retry.
        for attempt in range(3):
            parent.mkdir(parents=True, exist_ok=True)
            try:
                fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=TEMP_SUFFIX, dir=parent)
            except FileNotFoundError:
                if attempt == 2:
                    raise
                continue
            break
        self._temp = Path(name)
        self._file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        assert self._file is not None, "AtomicFile.open() first"
        self._file.write(data)

    def copy_from(self, source: BinaryIO, chunk_size: int) -> None:
        while chunk := source.read(chunk_size):
            self.write(chunk)

    def commit(self) -> None:
        assert self._file is not None and self._temp is not None, "AtomicFile.open() first"
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            os.fchmod(self._file.fileno(), self._mode)
            self._file.close()
            os.replace(self._temp, self.target)
        except BaseException:
            self.abort()
            raise
        self._temp = None
        _fsync_dir(self.target.parent)

    def abort(self) -> None:
        """Drop the temporary file; safe to call more than once and after a failed ``open``."""
        if self._file is not None:
            self._file.close()
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None


def _fsync_dir(path: Path) -> None:
    # Makes the rename durable; some filesystems refuse fsync on a directory, which is fine.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


async def write_chunks(target: Path, chunks: AsyncIterator[bytes]) -> None:
    """Replace ``target`` with the concatenation of ``chunks``, each written from a worker thread.

    File-system failures raise :class:`StoreError`; whatever ``chunks`` raises propagates unchanged.
    On any failure (or cancellation) ``target`` is left as it was.
    """
    file = AtomicFile(target)
    try:
        await _on_disk(file.open, target)
        async for chunk in chunks:
            await _on_disk(file.write, target, chunk)
        await _on_disk(file.commit, target)
    except BaseException:
        # Synchronous on purpose: it must also run when the task is being cancelled.
        file.abort()
        raise


async def _on_disk(func: Callable[..., None], target: Path, *args: bytes) -> None:
    try:
        await asyncio.to_thread(func, *args)
    except OSError as e:
        raise StoreError(f"cannot write {target}: {e}") from e
