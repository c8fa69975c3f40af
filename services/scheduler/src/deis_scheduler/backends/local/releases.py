"""Unpacked releases: each slug or image root filesystem fetched from the store and unpacked once.

A slug (``builder/<location>``) is a tarball of ``/app``; an image root filesystem (``builder/<rootfs>``)
a tarball of ``/``. Each is unpacked into ``<data>/releases/<digest>`` by the first process that needs it,
made readable for the unprivileged sandbox uid and never written again (sandboxes mount it read-only).
Releases no running process uses are removed by :meth:`ReleaseCache.prune`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import stat
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from deis_common.errors import ObjectNotFound, StoreError
from deis_common.events.state import BuildArtifact
from deis_common.store import ObjectStore

BUCKET = "builder"


class ReleaseError(RuntimeError):
    """The release cannot be fetched or unpacked."""


class ReleaseCache:
    def __init__(self, store: ObjectStore, root: Path) -> None:
        self.store = store
        self.root = root
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[Path] = Counter()

    @contextlib.asynccontextmanager
    async def using(self, build: BuildArtifact) -> AsyncIterator[Path]:
        """The unpacked release, kept from :meth:`prune` while the block runs (processes starting, runs)."""
        target = self.path_for(build)
        async with self._lock(target):  # unpacked and counted as used before any prune can look
            path = await self._unpack(build, target)
            self._users[target] += 1
        try:
            yield path
        finally:
            self._users[target] -= 1

    def _lock(self, target: Path) -> asyncio.Lock:
        return self._locks.setdefault(str(target), asyncio.Lock())

    @staticmethod
    def key_of(build: BuildArtifact) -> str:
        if build.kind == "buildpack":
            return build.location
        if not build.rootfs:
            raise ReleaseError(f"image {build.location} has no root filesystem in the store to run locally")
        return build.rootfs

    def path_for(self, build: BuildArtifact) -> Path:
        digest = hashlib.sha256(f"{build.kind}:{self.key_of(build)}".encode()).hexdigest()[:16]
        return self.root / digest

    async def _unpack(self, build: BuildArtifact, target: Path) -> Path:
        """The directory holding the release's files, fetching and unpacking it on first use (under the
        target's lock)."""
        if (target / "root").is_dir():
            return target / "root"
        key = self.key_of(build)
        work = target.with_name(target.name + ".partial")
        await asyncio.to_thread(shutil.rmtree, work, True)
        work.mkdir(parents=True)
        archive = work / "archive"
        try:
            await self.store.get_file(BUCKET, key, archive)
        except ObjectNotFound as e:
            raise ReleaseError(f"the release's files are missing from the store ({BUCKET}/{key})") from e
        except StoreError as e:
            raise ReleaseError(f"cannot fetch {BUCKET}/{key}: {e}") from e
        extracted = work / "extracted"
        extracted.mkdir()
        await _untar(archive, extracted)
        archive.unlink()
        source = _strip_app_dir(extracted) if build.kind == "buildpack" else extracted
        if build.kind != "buildpack":
            _add_mount_points(source)
        await asyncio.to_thread(_make_readable, source)
        source.rename(work / "root")
        await asyncio.to_thread(shutil.rmtree, extracted, True)
        for directory in (self.root, target.parent):
            directory.chmod(directory.stat().st_mode | stat.S_IXOTH | stat.S_IROTH)
        work.chmod(0o755)
        work.rename(target)
        return target / "root"

    async def prune(self, in_use: Callable[[], set[Path]]) -> None:
        """Delete unpacked releases that no process mounts any more.

        ``in_use`` (the release dirs of the processes) is asked again for each release, under the lock a
        deploy unpacks and claims it with: a release claimed while the prune runs is never deleted.
        """
        if not self.root.is_dir():
            return
        for entry in sorted(self.root.iterdir()):
            if entry.name.endswith(".deleting"):  # left by a scheduler that stopped mid-delete
                await asyncio.to_thread(shutil.rmtree, entry, True)
                continue
            if entry.name.endswith(".partial"):
                continue
            async with self._lock(entry):
                if self._users[entry] > 0 or entry in {p.parent for p in in_use()}:
                    continue
                doomed = entry.with_name(entry.name + ".deleting")
                entry.rename(doomed)  # gone at once for an unpack that comes next; deleted at leisure
            await asyncio.to_thread(shutil.rmtree, doomed, True)


async def _untar(archive: Path, into: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        "tar", "-x", "-f", str(archive), "-C", str(into), "--no-same-owner", "--no-same-permissions",
        "--delay-directory-restore",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise ReleaseError(f"cannot unpack the release: {err.decode(errors='replace').strip()}")


def _strip_app_dir(root: Path) -> Path:
    """Slugs made as a tarball of ``./app`` rather than of its contents unpack one level deeper."""
    entries = list(root.iterdir())
    if len(entries) == 1 and entries[0].name == "app" and entries[0].is_dir():
        return entries[0]
    return root


def _make_readable(root: Path) -> None:
    """Everything readable (and directories and executables traversable) by the sandbox's uid."""
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, os.stat(dirpath).st_mode | 0o555)
        for name in filenames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                extra = 0o444 | (0o111 if mode & 0o100 else 0)
                os.chmod(path, mode | extra)
        del dirnames  # os.walk descends on its own


# The sandbox mounts these over an image's read-only root; `FROM scratch` images have none of them.
MOUNT_POINTS = ("proc", "dev", "tmp")


def _add_mount_points(root: Path) -> None:
    for name in MOUNT_POINTS:
        if not os.path.lexists(root / name):
            (root / name).mkdir(mode=0o755)


def image_shell(root: Path, shells: tuple[str, ...]) -> str | None:
    """The first of ``shells`` that is an executable file in the image root filesystem ``root``."""
    return next((shell for shell in shells if _executable_in(root, shell)), None)


def _executable_in(root: Path, path: str, hops: int = 40) -> bool:
    """Whether ``path`` names an executable file inside ``root``, following symlinks as the image sees
    them (``/bin -> usr/bin``, ``/bin/sh -> /bin/busybox``): an absolute target starts over at ``root``,
    never at the host's ``/``, and ``..`` stops at ``root``."""
    inside: list[str] = []
    pending = [p for p in path.split("/") if p not in ("", ".")]
    while pending:
        part = pending.pop(0)
        if part == "..":
            if inside:
                inside.pop()
            continue
        candidate = root.joinpath(*inside, part)
        if candidate.is_symlink():
            hops -= 1
            if hops < 0:
                return False
            target = os.readlink(candidate)
            if target.startswith("/"):
                inside = []
            pending = [p for p in target.split("/") if p not in ("", ".")] + pending
            continue
        inside.append(part)
    found = root.joinpath(*inside)
    return found.is_file() and not found.is_symlink() and os.access(found, os.X_OK)
