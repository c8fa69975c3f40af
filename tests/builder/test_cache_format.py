"""The build cache restores fast (zstd) and caches saved before (gzip) still restore."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from pathlib import Path

import pytest

from deis_builder import names
from deis_builder.build.buildlog import BuildLog
from deis_builder.build.cache import BuildCache
from deis_common.bus import Bus
from deis_common.store import FsStore

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _gzip_tarball(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue())


async def test_a_gzip_cache_from_before_restores_and_is_saved_again_with_zstd(
    bus: Bus, tmp_path: Path
) -> None:
    if not shutil.which("zstd"):
        pytest.skip("zstd is not installed (make up installs it); caches stay gzip")
    log = BuildLog(bus, "cache-format")
    async with FsStore(tmp_path / "store") as store:
        await store.put(names.BUCKET, names.cache_key("old"), _gzip_tarball({"venv/marker": b"kept"}))
        cache_dir = tmp_path / "cache"
        cache_dir.mkdir()
        cache = BuildCache(store, "old", cache_dir, tmp_path, log)
        await cache.restore()
        assert (cache_dir / "venv" / "marker").read_bytes() == b"kept"

        (cache_dir / "go-build").mkdir()
        (cache_dir / "go-build" / "entry").write_bytes(b"compiled")
        await cache.save()
        saved = await store.get(names.BUCKET, names.cache_key("old"))
        assert saved.startswith(ZSTD_MAGIC)

        again = tmp_path / "again"
        again.mkdir()
        await BuildCache(store, "old", again, tmp_path, log).restore()
        assert (again / "go-build" / "entry").read_bytes() == b"compiled"
        assert (again / "venv" / "marker").read_bytes() == b"kept"
