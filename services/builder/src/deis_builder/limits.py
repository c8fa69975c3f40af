"""A memory ceiling for each build step, through the cgroup v1 memory controller.

A step runs inside its own cgroup (``/sys/fs/cgroup/memory/deis-build-<id>``) with
``memory.limit_in_bytes`` set, so a runaway build is stopped by the kernel instead of starving the
node. Where the controller is missing or not writable, steps run without a ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup/memory")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int | None:
    """``512m``, ``2g``, ``2GiB`` or a byte count; empty or ``0`` means no limit."""
    if not text.strip() or text.strip() == "0":
        return None
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 512m or 2g)")
    return int(float(match[1]) * _UNITS[match[2].lower()])


@dataclass(frozen=True)
class Cage:
    path: Path

    def wrap(self, cmd: Sequence[str]) -> list[str]:
        """``cmd`` started inside the cgroup (the shell joins it, then becomes the command)."""
        return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(self.path), *cmd]

    def out_of_memory(self) -> bool:
        try:
            for line in (self.path / "memory.oom_control").read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill" and value.strip() not in ("", "0"):
                    return True
            return int((self.path / "memory.failcnt").read_text().strip() or 0) > 0 and self._at_limit()
        except (OSError, ValueError):
            return False

    def _at_limit(self) -> bool:
        limit = int((self.path / "memory.limit_in_bytes").read_text())
        peak = int((self.path / "memory.max_usage_in_bytes").read_text())
        return peak >= limit


class MemoryLimit:
    def __init__(self, limit: int | None, root: Path = CGROUP_ROOT) -> None:
        self.limit = limit
        self._root = root
        self._usable = limit is not None and os.access(root, os.W_OK)
        if limit is not None and not self._usable:
            log.info("builds.memory_limit_unavailable", cgroup=str(root))

    @property
    def usable(self) -> bool:
        return self._usable

    @contextlib.asynccontextmanager
    async def cage(self) -> AsyncIterator[Cage | None]:
        if not self._usable or self.limit is None:
            yield None
            return
        path = self._root / f"deis-build-{uuid.uuid4().hex[:12]}"
        try:
            await asyncio.to_thread(_create, path, self.limit)
        except OSError as e:
            log.warning("builds.memory_limit_failed", error=str(e))
            yield None
            return
        try:
            yield Cage(path)
        finally:
            # The cgroup can go once its last process is gone; the sandbox's processes die with it.
            for _ in range(50):
                if await asyncio.to_thread(_try_remove, path):
                    break
                await asyncio.sleep(0.02)
            else:
                log.warning("builds.cgroup_left_behind", cgroup=str(path))


def _create(path: Path, limit: int) -> None:
    path.mkdir()
    try:
        (path / "memory.limit_in_bytes").write_text(str(limit))
        swap = path / "memory.memsw.limit_in_bytes"
        if swap.exists():
            with contextlib.suppress(OSError):
                swap.write_text(str(limit))
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        raise


def _try_remove(path: Path) -> bool:
    try:
        path.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
