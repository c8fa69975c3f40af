"""Memory and CPU limits for sandboxed processes through cgroups, v1 or v2, with rlimits as the fallback.
Also the CPU accounting of each process's cgroup (the local autoscaler measures with it).

The one cgroup module of the platform: the scheduler limits each app process with it, the builder each
build. One cgroup per process (``<root>/<group>/<name>``, e.g. an installation, an app and a process) under
every writable controller: cgroup v1 ``memory`` and ``cpu`` hierarchies, or the v2 unified hierarchy when
that is where controllers live (every current Debian). The process enters its cgroup before exec
(:func:`entering`), so everything it starts is limited and can be killed as one. When no controller is
writable the limits fall back to ``RLIMIT_DATA`` (memory) and nothing (CPU). CPU time is accounted in
``cpu.stat`` (``usage_usec``) on v2 and ``cpuacct.usage`` (nanoseconds) on v1, whose ``cpuacct`` hierarchy is
either mounted with ``cpu`` or on its own (then the process gets a cgroup there too).

Imported by the scheduler's process supervisor (started with ``python -S``), so this module uses the
standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

CGROUP_FS = Path("/sys/fs/cgroup")
CFS_PERIOD_US = 100_000


@dataclass(frozen=True)
class CgroupPlan:
    """The directories of one process's cgroup per controller (empty when none is writable)."""

    memory: str | None = None
    cpu: str | None = None
    unified: str | None = None
    cpuacct: str | None = None  # v1 with ``cpuacct`` mounted apart from ``cpu``: accounting only

    @property
    def dirs(self) -> list[str]:
        return [d for d in (self.memory, self.cpu, self.unified, self.cpuacct) if d]


def _writable(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def _own_cgroup() -> str | None:
    """This process's cgroup on the v2 hierarchy (the ``0::`` line of /proc/self/cgroup)."""
    try:
        return Path("/proc/self/cgroup").read_text().strip().splitlines()[-1].split(":", 2)[2]
    except (OSError, IndexError):
        return None


def _v2_root() -> Path | None:
    if not (CGROUP_FS / "cgroup.controllers").exists():
        return None
    own = _own_cgroup()
    if own is None:
        return None
    base = CGROUP_FS / own.lstrip("/")
    return base if _writable(base) else None


def limits_memory() -> bool:
    """Whether this machine lets us put a memory limit on a cgroup (else rlimits are the fallback)."""
    probe = plan("probe", "probe", "probe")
    return bool(probe.memory or probe.unified)


def plan(root_name: str, group: str, name: str) -> CgroupPlan:
    """Where the cgroups of process ``name`` go, given what this machine lets us write."""
    v1_memory, v1_cpu, v1_cpuacct = CGROUP_FS / "memory", CGROUP_FS / "cpu", CGROUP_FS / "cpuacct"
    if _writable(v1_memory) or _writable(v1_cpu):
        # co-mounted (``cpu,cpuacct``, the usual layout): the cpu cgroup accounts too
        separate = _writable(v1_cpuacct) and v1_cpuacct.resolve() != v1_cpu.resolve()
        return CgroupPlan(
            memory=str(v1_memory / root_name / group / name) if _writable(v1_memory) else None,
            cpu=str(v1_cpu / root_name / group / name) if _writable(v1_cpu) else None,
            cpuacct=str(v1_cpuacct / root_name / group / name) if separate else None,
        )
    v2 = _v2_root()
    if v2 is not None:
        return CgroupPlan(unified=str(v2 / root_name / group / name))
    return CgroupPlan()


def create(cgroups: CgroupPlan, *, memory: int | None, cpu: float | None) -> None:
    """Make the cgroups and write the limits (raises OSError when the kernel refuses)."""
    if cgroups.memory:
        path = Path(cgroups.memory)
        path.mkdir(parents=True, exist_ok=True)
        if memory:
            (path / "memory.limit_in_bytes").write_text(str(memory))
            with contextlib.suppress(OSError):  # no swap accounting on some kernels
                (path / "memory.memsw.limit_in_bytes").write_text(str(memory))
    if cgroups.cpu:
        path = Path(cgroups.cpu)
        path.mkdir(parents=True, exist_ok=True)
        (path / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
        (path / "cpu.cfs_quota_us").write_text(str(int(cpu * CFS_PERIOD_US)) if cpu else "-1")
    if cgroups.cpuacct:
        Path(cgroups.cpuacct).mkdir(parents=True, exist_ok=True)
    if cgroups.unified:
        path = Path(cgroups.unified)
        # Each level hands the controllers down to the next (v2 enables them per subtree), new levels
        # included; the top of the hierarchy is the kernel's, not ours.
        for parent in reversed(path.parents):
            if parent == CGROUP_FS or CGROUP_FS not in parent.parents:
                continue
            parent.mkdir(exist_ok=True)
            with contextlib.suppress(OSError):
                (parent / "cgroup.subtree_control").write_text("+memory +cpu")
        path.mkdir(exist_ok=True)
        if memory:
            (path / "memory.max").write_text(str(memory))
            with contextlib.suppress(OSError):
                (path / "memory.swap.max").write_text("0")
        if cpu:
            (path / "cpu.max").write_text(f"{int(cpu * CFS_PERIOD_US)} {CFS_PERIOD_US}")


def entering(cgroups: CgroupPlan, memory_fallback: int | None) -> list[str]:
    """A command prefix that moves itself into the cgroups (or sets rlimits), then execs the rest.

    A shell does it between fork and exec of the process, so everything the process starts is inside,
    without running Python code in a forked child (unsafe next to threads).
    """
    steps = [f'echo $$ > "{os.path.join(d, "cgroup.procs")}"' for d in cgroups.dirs]
    if not (cgroups.memory or cgroups.unified) and memory_fallback:
        steps.append(f"ulimit -d {max(1, memory_fallback // 1024)}")
    if not steps:
        return []
    return ["/bin/sh", "-c", " && ".join([*steps, 'exec "$@"']), "deis-limits"]


def oom_kills(cgroups: CgroupPlan) -> int:
    """How many times the kernel killed something in this cgroup for exceeding its memory limit."""
    for directory, filename in ((cgroups.memory, "memory.oom_control"), (cgroups.unified, "memory.events")):
        if not directory:
            continue
        with contextlib.suppress(OSError, ValueError):
            for line in Path(directory, filename).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    return 0


def cpu_seconds(cgroups: CgroupPlan) -> float | None:
    """CPU time used so far by everything in the cgroup, in seconds; None when nothing accounts for it.

    A counter kept by the kernel: the difference of two readings is the CPU time spent between them,
    however late either reading was taken.
    """
    for directory in (cgroups.cpuacct, cgroups.cpu):
        if directory:
            with contextlib.suppress(OSError, ValueError):
                return int(Path(directory, "cpuacct.usage").read_text()) / 1e9
    if cgroups.unified:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(cgroups.unified, "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
    return None


def pids(cgroups: CgroupPlan) -> list[int]:
    for directory in cgroups.dirs:
        with contextlib.suppress(OSError, ValueError):
            return [int(p) for p in Path(directory, "cgroup.procs").read_text().split()]
    return []


def kill_all(cgroups: CgroupPlan, sig: int = signal.SIGKILL) -> None:
    for pid in pids(cgroups):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def peak_memory_reached(cgroups: CgroupPlan) -> bool:
    """Whether the cgroup's memory use ever reached its limit (v1: the failure counter)."""
    if not cgroups.memory:
        return False
    path = Path(cgroups.memory)
    with contextlib.suppress(OSError, ValueError):
        if int((path / "memory.failcnt").read_text().strip() or 0) == 0:
            return False
        limit = int((path / "memory.limit_in_bytes").read_text())
        return int((path / "memory.max_usage_in_bytes").read_text()) >= limit
    return False


def remove(cgroups: CgroupPlan) -> bool:
    """Remove the process's cgroups, and its group's and root's directories once empty; True when gone."""
    for directory in cgroups.dirs:
        path = Path(directory)
        for candidate in (path, path.parent, path.parent.parent):
            with contextlib.suppress(OSError):
                candidate.rmdir()
    return not any(os.path.isdir(directory) for directory in cgroups.dirs)
