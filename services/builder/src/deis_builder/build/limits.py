"""A memory ceiling for each build, through cgroups (v1 or v2, :mod:`deis_common.cgroups`).

A build's steps (one after the other) run inside one cgroup of the build's own
(``deis-builds/<installation>/<id>`` under the memory controller, or under the builder's own cgroup on the v2
unified hierarchy) with its memory limit set, so a runaway build is stopped by the kernel instead of starving
the node. Where no controller is writable, steps run with
``RLIMIT_DATA`` as the ceiling instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import structlog

from deis_common import cgroups

log = structlog.get_logger(__name__)

@dataclass(frozen=True)
class Cage:
    plan: cgroups.CgroupPlan
    limit: int

    def wrap(self, cmd: Sequence[str]) -> list[str]:
        """``cmd`` started inside the cgroup (a shell joins it, then becomes the command)."""
        return [*cgroups.entering(self.plan, self.limit), *cmd]

    def oom_kills(self) -> int:
        return cgroups.oom_kills(self.plan)

    def out_of_memory(self, kills_before: int = 0) -> bool:
        """Whether the kernel stopped something for the limit since ``kills_before`` (``oom_kills()``)."""
        return cgroups.oom_kills(self.plan) > kills_before or cgroups.peak_memory_reached(self.plan)


class MemoryLimit:
    def __init__(self, limit: int | None, owner: str = "builder") -> None:
        self.limit = limit
        self._owner = owner

    @property
    def usable(self) -> bool:
        """Whether steps get a cgroup that stops them at the limit (else only ``RLIMIT_DATA``)."""
        return self.limit is not None and cgroups.limits_memory()

    @contextlib.asynccontextmanager
    async def cage(self) -> AsyncIterator[Cage | None]:
        if self.limit is None:
            yield None
            return
        plan = cgroups.plan("deis-builds", self._owner, uuid.uuid4().hex[:12])
        try:
            await asyncio.to_thread(cgroups.create, plan, memory=self.limit, cpu=None)
        except OSError as e:
            log.warning("builds.memory_limit_failed", error=str(e))
            await asyncio.to_thread(cgroups.remove, plan)
            plan = cgroups.CgroupPlan()  # RLIMIT_DATA only
        try:
            yield Cage(plan, self.limit)
        finally:
            # The cgroup can go once its last process is gone; the sandbox's processes die with it.
            await asyncio.to_thread(cgroups.kill_all, plan)
            for _ in range(50):
                if await asyncio.to_thread(cgroups.remove, plan):
                    break
                await asyncio.sleep(0.02)
            else:
                log.warning("builds.cgroup_left_behind", cgroups=plan.dirs)
