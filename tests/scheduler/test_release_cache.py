"""Unpacked releases are deleted only when nothing uses them, even while deploys start next to a prune."""

from __future__ import annotations

import asyncio
from pathlib import Path

from deis_common.events.state import BuildArtifact
from deis_common.store import FsStore
from deis_scheduler.backends.local.releases import ReleaseCache
from tests.scheduler.apps import slug_bytes


async def stored(store: FsStore, name: str) -> BuildArtifact:
    key = f"home/{name}:git-1/push/slug.tgz"
    await store.put("builder", key, slug_bytes({"Procfile": "web: true\n"}))
    return BuildArtifact(kind="buildpack", location=key, sha="1", procfile={"web": "true"})


async def test_a_prune_asks_what_is_in_use_again_for_every_release(store: FsStore, tmp_path: Path) -> None:
    cache = ReleaseCache(store, tmp_path / "releases")
    first, second = await stored(store, "one"), await stored(store, "two")
    async with cache.using(first) as one, cache.using(second) as two:
        pass
    calls: list[int] = []

    def in_use() -> set[Path]:
        # A process of whichever release comes second starts while the prune runs.
        calls.append(1)
        return set() if len(calls) == 1 else {one, two}

    await cache.prune(in_use)

    survivors = [p for p in (one, two) if p.is_dir()]
    assert len(survivors) == 1 and len(calls) == 2, "the release claimed mid-prune is kept"


async def test_a_release_being_claimed_is_never_pruned_under_it(store: FsStore, tmp_path: Path) -> None:
    cache = ReleaseCache(store, tmp_path / "releases")
    build = await stored(store, "busy")
    async with cache.using(build) as path:
        await cache.prune(set)
        assert path.is_dir()
        pruning = asyncio.create_task(cache.prune(set))
        await asyncio.sleep(0.05)
        assert path.is_dir(), "still in use"
    await pruning
    await cache.prune(set)
    assert not path.exists()
    async with cache.using(build) as again:  # and it comes back when needed
        assert (again / "Procfile").read_text() == "web: true\n"
