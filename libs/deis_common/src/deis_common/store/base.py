"""The object-store interface every service uses, whatever holds the bytes.

Builds, slugs, registry blobs and database backups live in an object store (ARCHITECTURE §5). Services
talk to :class:`ObjectStore` only; the drivers (:mod:`.fs` on a local disk, :mod:`.s3` on any S3 server)
are chosen once by :func:`deis_common.store.open_store`.

This module owns the contract: the method set, :class:`ObjectInfo`, the key and bucket rules, and the
error vocabulary (a missing object raises :class:`~deis_common.errors.ObjectNotFound`, every other driver
failure :class:`~deis_common.errors.StoreError`). It must not import a driver library.
"""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from deis_common.errors import StoreError

#: Default size of the pieces :meth:`ObjectStore.stream` yields and the drivers copy with.
CHUNK_SIZE = 1024 * 1024

# S3's own bucket-name rules, so a name valid for one driver is valid for both.
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What the store knows about one object."""

    key: str
    size: int
    """Size in bytes."""
    modified: datetime
    """Time of the last write, timezone-aware (UTC)."""


def check_bucket(bucket: str) -> str:
    """Return ``bucket`` if it is a valid bucket name, else raise :class:`StoreError`."""
    if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket:
        raise StoreError(f"invalid bucket name {bucket!r}")
    return bucket


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise :class:`StoreError`.

    Keys are ``/``-separated paths such as ``home/myapp:git-1a2b3c4d/tar``. A leading ``/``, empty,
    ``.`` or ``..`` segments and NUL bytes are refused: the fs driver maps keys onto paths, and no key
    may name anything outside its bucket.
    """
    if not key or "\0" in key or "\\" in key:
        raise StoreError(f"invalid object key {key!r}")
    if key.startswith("/"):
        raise StoreError(f"object key {key!r} must not start with '/'")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise StoreError(f"object key {key!r} has an empty, '.' or '..' segment")
    return key


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can start a valid key (``""`` and a trailing ``/`` allowed)."""
    if prefix:
        # "a/b/" is the start of "a/b/x"; "a/b" of "a/bc" — both fine if the key rules hold for them.
        check_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


class ObjectStore(abc.ABC):
    """Buckets of byte objects addressed by ``/``-separated keys.

    Bucket names are plain (``builder``, ``registry``, ``database``); a driver may map them (the s3
    driver adds a prefix). ``put*`` replaces an existing object as a whole: a reader sees the old bytes
    or the new ones, never a mix, and a failed write leaves the old object in place. Writes create the
    bucket when it does not exist yet. Reading from a missing bucket behaves as if it were empty.

    Use as an async context manager or call :meth:`close` when done.
    """

    # writing

    @abc.abstractmethod
    async def put(self, bucket: str, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any existing object."""

    @abc.abstractmethod
    async def put_file(self, bucket: str, key: str, path: Path) -> None:
        """Store the contents of the local file ``path``, read in chunks (never whole in memory)."""

    @abc.abstractmethod
    async def put_stream(self, bucket: str, key: str, chunks: AsyncIterator[bytes]) -> None:
        """Store the concatenation of ``chunks``; nothing is visible under ``key`` until it is complete."""

    # reading

    @abc.abstractmethod
    async def get(self, bucket: str, key: str) -> bytes:
        """Return the whole object. For big objects prefer :meth:`get_file` or :meth:`stream`."""

    @abc.abstractmethod
    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        """Write the object to the local file ``path`` (replaced atomically), in chunks."""

    @abc.abstractmethod
    def stream(self, bucket: str, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
        """Yield the object in pieces of at most ``chunk_size`` bytes.

        A missing object raises :class:`ObjectNotFound` from the first iteration. Stopping early holds
        a file or connection until the generator is closed: use ``contextlib.aclosing``.
        """

    @abc.abstractmethod
    async def exists(self, bucket: str, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abc.abstractmethod
    async def stat(self, bucket: str, key: str) -> ObjectInfo:
        """Size and modification time of the object under ``key``."""

    @abc.abstractmethod
    async def list(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix`` (a plain string prefix, not a directory), sorted."""

    # removing

    @abc.abstractmethod
    async def delete(self, bucket: str, key: str) -> None:
        """Remove the object under ``key``; removing a missing object is not an error."""

    @abc.abstractmethod
    async def delete_prefix(self, bucket: str, prefix: str) -> None:
        """Remove every object whose key starts with ``prefix`` (which must not be empty)."""

    # lifecycle

    @abc.abstractmethod
    async def ensure_bucket(self, bucket: str) -> None:
        """Create ``bucket`` if it does not exist yet."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections and threads; the store must not be used afterwards."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
