"""The per-app build cache: ``home/<app>/cache/cache.tgz`` in the builder bucket.

Restored into the build's cache dir before compile and uploaded afterwards only when its files
changed, so a push that changes code only neither reinstalls dependencies nor re-uploads the cache.
``DEIS_DISABLE_CACHE`` in the app config deletes it and skips both steps (spec §2.5, §2.7).

The archive keeps slugbuilder's name but is compressed with zstd where the host has it: a cache holds
compiled code (a Go build cache is ~90 MB), and zstd restores it several times faster than gzip, on
every push. A gzip cache (from before, or from a host without zstd) restores all the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from pathlib import Path

from deis_builder import names
from deis_builder.build import slug
from deis_builder.build.buildlog import BuildLog
from deis_common.errors import ObjectNotFound
from deis_common.store import ObjectStore


def fingerprint(cache_dir: Path) -> str:
    """A digest of every file's path, size and modification time (cheap, and exact enough)."""
    digest = hashlib.md5(usedforsecurity=False)
    for dirpath, dirnames, filenames in os.walk(cache_dir):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            rel = os.path.relpath(path, cache_dir)
            digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def compressor() -> str:
    return "zstd -1 -q" if shutil.which("zstd") else slug.GZIP


def is_empty(cache_dir: Path) -> bool:
    return not any(cache_dir.iterdir())


class BuildCache:
    def __init__(self, store: ObjectStore, app: str, cache_dir: Path, scratch: Path, log: BuildLog) -> None:
        self._store = store
        self._app = app
        self._dir = cache_dir
        self._scratch = scratch
        self._log = log
        self._before = ""

    async def drop(self) -> None:
        await self._store.delete_prefix(names.BUCKET, names.cache_prefix(self._app) + "/")

    async def restore(self) -> None:
        await self._log.step("Restoring cache...")
        archive = self._scratch / "cache-in.tgz"
        try:
            await self._store.get_file(names.BUCKET, names.cache_key(self._app), archive)
        except ObjectNotFound:
            await self._log.line(
                "       No cache file found. If this is the first deploy, it will be created now."
            )
        else:
            await slug.unpack(archive, self._dir)
            archive.unlink(missing_ok=True)
            await self._log.line("       Done!")
        self._before = await asyncio.to_thread(fingerprint, self._dir)

    async def save(self) -> None:
        if is_empty(self._dir):
            await self._log.step("No files were added to the cache folder, cache will not be saved.")
            return
        after = await asyncio.to_thread(fingerprint, self._dir)
        if after == self._before:
            await self._log.step("Cache unchanged, not updating")
            return
        await self._log.step("Files inside cache folder changed, uploading new cache...")
        archive = self._scratch / "cache-out.tgz"
        size = await slug.pack(self._dir, archive, compressor())
        await self._store.put_file(names.BUCKET, names.cache_key(self._app), archive)
        archive.unlink(missing_ok=True)
        await self._log.line(f"       Done: Uploaded cache ({slug.human_size(size)})")
