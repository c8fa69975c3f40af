"""Checksummed objects: every object the backup tool stores carries a sha256 sidecar, checked on read.

A base backup or WAL segment that changed in the store (bit rot, a truncated upload, a bad copy) must
be detected and refused, never restored. Writing an object ``K`` stores the bytes first and then
``K.sha256`` (JSON: digest and size of the stored bytes); an object without its sidecar was never
completely written. Reading recomputes the digest of the bytes as they arrive and raises
:class:`~deis_backup.errors.CorruptObject` on any difference, before the caller uses them.

This module knows nothing about WAL or base backups; it only moves bytes and proves they are intact.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from deis_backup.errors import CorruptObject
from deis_common.errors import ObjectNotFound
from deis_common.store import ObjectStore

SIDECAR_SUFFIX = ".sha256"


@dataclass(frozen=True)
class Digest:
    """The sha256 and size of an object's stored bytes."""

    sha256: str
    size: int

    def to_bytes(self) -> bytes:
        return json.dumps({"algorithm": "sha256", "digest": self.sha256, "size": self.size}).encode()

    @classmethod
    def parse(cls, bucket: str, key: str, data: bytes) -> Digest:
        try:
            doc = json.loads(data)
            if doc.get("algorithm") != "sha256":
                raise ValueError(f"unknown algorithm {doc.get('algorithm')!r}")
            digest = cls(sha256=str(doc["digest"]), size=int(doc["size"]))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise CorruptObject(bucket, key, f"unreadable checksum sidecar ({e})") from e
        if len(digest.sha256) != 64:
            raise CorruptObject(bucket, key, "checksum sidecar holds no sha256 digest")
        return digest


class Hashing:
    """Hashes and counts the chunks that pass through it."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> bytes:
        self._hash.update(chunk)
        self.size += len(chunk)
        return chunk

    def digest(self) -> Digest:
        return Digest(self._hash.hexdigest(), self.size)

    async def relay(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            yield self.update(chunk)


def sidecar_key(key: str) -> str:
    return key + SIDECAR_SUFFIX


def is_sidecar(key: str) -> bool:
    return key.endswith(SIDECAR_SUFFIX)


def digest_of(data: bytes) -> Digest:
    return Digest(hashlib.sha256(data).hexdigest(), len(data))


async def put_checked(store: ObjectStore, bucket: str, key: str, data: bytes) -> Digest:
    """Store ``data`` under ``key``, then its checksum sidecar."""
    digest = digest_of(data)
    await store.put(bucket, key, data)
    await store.put(bucket, sidecar_key(key), digest.to_bytes())
    return digest


async def put_stream_checked(
    store: ObjectStore, bucket: str, key: str, chunks: AsyncIterator[bytes]
) -> Digest:
    """Store the concatenation of ``chunks`` under ``key`` (hashed on the way), then its sidecar."""
    hashing = Hashing()
    await store.put_stream(bucket, key, hashing.relay(chunks))
    digest = hashing.digest()
    await store.put(bucket, sidecar_key(key), digest.to_bytes())
    return digest


async def read_digest(store: ObjectStore, bucket: str, key: str) -> Digest | None:
    """The recorded checksum of ``key``, or None when no sidecar exists (never completely written)."""
    try:
        data = await store.get(bucket, sidecar_key(key))
    except ObjectNotFound:
        return None
    return Digest.parse(bucket, key, data)


async def _expected(store: ObjectStore, bucket: str, key: str) -> Digest:
    digest = await read_digest(store, bucket, key)
    if digest is None:
        if await store.exists(bucket, key):
            raise CorruptObject(bucket, key, "no checksum recorded (the upload never completed)")
        raise ObjectNotFound(bucket, key)
    return digest


def compare(bucket: str, key: str, expected: Digest, actual: Digest) -> None:
    if actual.size != expected.size:
        raise CorruptObject(bucket, key, f"{actual.size} bytes stored, {expected.size} bytes were written")
    if actual.sha256 != expected.sha256:
        raise CorruptObject(
            bucket, key, f"sha256 {actual.sha256[:16]}… does not match the recorded {expected.sha256[:16]}…"
        )


async def get_checked(store: ObjectStore, bucket: str, key: str) -> bytes:
    """The whole object, after proving it matches its sidecar."""
    expected = await _expected(store, bucket, key)
    data: bytes = await store.get(bucket, key)
    compare(bucket, key, expected, digest_of(data))
    return data


async def get_file_checked(store: ObjectStore, bucket: str, key: str, path: Path) -> Digest:
    """Download the object to ``path`` and prove it matches its sidecar; on a mismatch ``path`` is removed."""
    expected = await _expected(store, bucket, key)
    hashing = Hashing()
    try:
        with path.open("wb") as out:
            async with aclosing(store.stream(bucket, key)) as chunks:
                async for chunk in chunks:
                    await asyncio.to_thread(out.write, hashing.update(chunk))
        compare(bucket, key, expected, hashing.digest())
    except BaseException:
        _discard(path)
        raise
    return expected


def _discard(path: Path) -> None:
    # Synchronous on purpose: it must also run while the task is being cancelled.
    path.unlink(missing_ok=True)


async def delete_checked(store: ObjectStore, bucket: str, key: str) -> None:
    """Remove an object and its sidecar (the object first: a lone sidecar is harmless, never read)."""
    await store.delete(bucket, key)
    await store.delete(bucket, sidecar_key(key))
