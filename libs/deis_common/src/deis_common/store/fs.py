"""The ``fs`` driver: an object store in a local directory, for the single-host platform and tests.

Each bucket is a directory under ``root`` and each key a file path below it (``/`` in a key makes
subdirectories). Writes go through :class:`~deis_common.store.atomicfile.AtomicFile`, so readers never
see partial objects. Every file-system call runs in a worker thread, and objects move in chunks, so a
big object never sits whole in memory (except through :meth:`FsStore.get`, which asks for that).

Limits of the mapping onto a file system: a key cannot also be the "directory" of another key
(``a`` and ``a/b`` cannot coexist; the second write raises :class:`StoreError`), and key segments that
look like this driver's temporary files are refused.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO, ParamSpec, TypeVar

from deis_common.errors import ObjectNotFound, StoreError
from deis_common.store.atomicfile import AtomicFile, is_temp_name, write_chunks
from deis_common.store.base import CHUNK_SIZE, ObjectInfo, ObjectStore, check_bucket, check_key, check_prefix

_P = ParamSpec("_P")
_T = TypeVar("_T")

# Opening a key whose path is missing, a directory, or runs through a file: there is no such object.
_NOT_FOUND = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class FsStore(ObjectStore):
    """Buckets as directories under ``root`` (created on demand)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"FsStore({str(self.root)!r})"

    # paths

    def _bucket_dir(self, bucket: str) -> Path:
        return self.root / check_bucket(bucket)

    def _object_path(self, bucket: str, key: str) -> Path:
        check_key(key)
        if any(is_temp_name(segment) for segment in key.split("/")):
            raise StoreError(f"object key {key!r} looks like a temporary file of the fs driver")
        return self._bucket_dir(bucket).joinpath(*key.split("/"))

    async def _run(self, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run blocking ``func`` in a thread; file-system errors become :class:`StoreError`."""
        try:
            return await asyncio.to_thread(func, *args, **kwargs)
        except OSError as e:
            raise StoreError(f"fs store at {self.root}: {e}") from e

    # writing

    async def put(self, bucket: str, key: str, data: bytes) -> None:
        await self._run(_write_file, self._object_path(bucket, key), data)

    async def put_file(self, bucket: str, key: str, path: Path) -> None:
        await self._run(_copy_file, path, self._object_path(bucket, key))

    async def put_stream(self, bucket: str, key: str, chunks: AsyncIterator[bytes]) -> None:
        await write_chunks(self._object_path(bucket, key), chunks)

    # reading

    async def get(self, bucket: str, key: str) -> bytes:
        path = self._object_path(bucket, key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except _NOT_FOUND as e:
            raise ObjectNotFound(bucket, key) from e
        except OSError as e:
            raise StoreError(f"fs store at {self.root}: {e}") from e

    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        source = self._object_path(bucket, key)
        try:
            await asyncio.to_thread(_copy_file, source, path, missing_source=ObjectNotFound(bucket, key))
        except ObjectNotFound:
            raise
        except OSError as e:
            raise StoreError(f"fs store at {self.root}: {e}") from e

    async def stream(
        self, bucket: str, key: str, chunk_size: int = CHUNK_SIZE
    ) -> AsyncGenerator[bytes, None]:
        path = self._object_path(bucket, key)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except _NOT_FOUND as e:
            raise ObjectNotFound(bucket, key) from e
        except OSError as e:
            raise StoreError(f"fs store at {self.root}: {e}") from e
        try:
            while chunk := await self._run(file.read, chunk_size):
                yield chunk
        finally:
            file.close()

    async def exists(self, bucket: str, key: str) -> bool:
        return await self._run(self._object_path(bucket, key).is_file)

    async def stat(self, bucket: str, key: str) -> ObjectInfo:
        path = self._object_path(bucket, key)
        try:
            st = await asyncio.to_thread(path.stat)
        except _NOT_FOUND as e:
            raise ObjectNotFound(bucket, key) from e
        except OSError as e:
            raise StoreError(f"fs store at {self.root}: {e}") from e
        if not S_ISREG(st.st_mode):
            raise ObjectNotFound(bucket, key)
        return ObjectInfo(key=key, size=st.st_size, modified=datetime.fromtimestamp(st.st_mtime, UTC))

    async def list(self, bucket: str, prefix: str = "") -> list[str]:
        return await self._run(_list_keys, self._bucket_dir(bucket), check_prefix(prefix))

    # removing

    async def delete(self, bucket: str, key: str) -> None:
        await self._run(_remove, self._bucket_dir(bucket), self._object_path(bucket, key))

    async def delete_prefix(self, bucket: str, prefix: str) -> None:
        if not check_prefix(prefix):
            raise StoreError("delete_prefix needs a non-empty prefix")
        bucket_dir = self._bucket_dir(bucket)

        def remove_all() -> None:
            for key in _list_keys(bucket_dir, prefix):
                _remove(bucket_dir, bucket_dir.joinpath(*key.split("/")))

        await self._run(remove_all)

    # lifecycle

    async def ensure_bucket(self, bucket: str) -> None:
        await self._run(self._bucket_dir(bucket).mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        """Nothing to release: the driver holds no open files between calls."""


def _list_keys(bucket_dir: Path, prefix: str) -> list[str]:
    """Sorted keys in ``bucket_dir`` starting with ``prefix``, temporary files left out."""
    # Walk only below the deepest directory the prefix names: "home/app:git-" walks "home/".
    start = bucket_dir.joinpath(*prefix.split("/")[:-1])
    keys: list[str] = []
    for dirpath, _dirnames, filenames in os.walk(start):
        rel = Path(dirpath).relative_to(bucket_dir).as_posix()
        for name in filenames:
            if is_temp_name(name):
                continue
            key = name if rel == "." else f"{rel}/{name}"
            if key.startswith(prefix):
                keys.append(key)
    return sorted(keys)


def _write_file(target: Path, data: bytes) -> None:
    file = AtomicFile(target)
    try:
        file.open()
        file.write(data)
        file.commit()
    except BaseException:
        file.abort()
        raise


def _copy_file(source: Path, target: Path, missing_source: Exception | None = None) -> None:
    """Copy ``source`` over ``target`` atomically; raise ``missing_source`` if there is no source."""
    try:
        src: BinaryIO = source.open("rb")
    except _NOT_FOUND:
        if missing_source is None:
            raise
        raise missing_source from None
    with src:
        file = AtomicFile(target)
        try:
            file.open()
            file.copy_from(src, CHUNK_SIZE)
            file.commit()
        except BaseException:
            file.abort()
            raise


def _remove(bucket_dir: Path, path: Path) -> None:
    """Unlink ``path`` if it is a file, then prune directories it leaves empty, up to the bucket."""
    try:
        path.unlink()
    except (*_NOT_FOUND, PermissionError):
        # Missing, or a "directory" key (EISDIR on Linux, EPERM on macOS): no object to remove.
        if path.is_file():
            raise
        return
    parent = path.parent
    while parent != bucket_dir and bucket_dir in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return  # not empty (or just repopulated by a concurrent write)
        parent = parent.parent
