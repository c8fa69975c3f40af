"""One supervised app process as the scheduler sees it: its directory, its shim, its status.

A process directory (``<data>/processes/<app>/<name>/``) holds ``record.json`` (who the process is: app,
type, slot, release, generation, fingerprint, port, address, network lease, cgroups — written once by the
scheduler), ``spec.json``
(what the shim runs) and the shim's ``status.json`` and ``output.log``. Everything needed to re-adopt the
process after a scheduler restart is on disk; nothing here holds a child-process handle.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from deis_common import cgroups, netns
from deis_scheduler.backends.local.forkserver import ForkServer
from deis_scheduler.backends.local.shim import start_time


@dataclass(frozen=True)
class ProcessRecord:
    app: str
    name: str
    type: str
    slot: int
    version: int
    generation: int
    fingerprint: str
    port: int | None
    release_dir: str
    cgroups: dict[str, str | None] = field(default_factory=dict)
    address: str = "127.0.0.1"
    """Where the process listens: its own network namespace's address, or the host's loopback."""
    netns: int | None = None
    """Its network lease (:mod:`deis_common.netns`), released with the process; None: the host's network."""

    @property
    def endpoint(self) -> str | None:
        return f"{self.address}:{self.port}" if self.port else None

    @property
    def label(self) -> str:
        """How log lines name the process: ``<type>.<slot>``."""
        return f"{self.type}.{self.slot}"


@dataclass
class Status:
    state: str = "starting"
    shim_pid: int | None = None
    shim_start: int | None = None
    child_pid: int | None = None
    restarts: int = 0
    last_exit: int | None = None
    oom_kills: int = 0
    started: datetime | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Status:
        started = raw.get("started")
        return cls(
            state=str(raw.get("state", "starting")),
            shim_pid=raw.get("shim_pid"),
            shim_start=raw.get("shim_start"),
            child_pid=raw.get("child_pid"),
            restarts=int(raw.get("restarts", 0)),
            last_exit=raw.get("last_exit"),
            oom_kills=int(raw.get("oom_kills", 0)),
            started=datetime.fromisoformat(started.replace("Z", "+00:00")) if started else None,
        )


class Process:
    """Handle on a process directory; cheap to create, safe to re-create after a restart."""

    def __init__(self, directory: Path, record: ProcessRecord) -> None:
        self.dir = directory
        self.record = record

    @classmethod
    def load(cls, directory: Path) -> Process | None:
        try:
            raw = json.loads((directory / "record.json").read_text())
            return cls(directory, ProcessRecord(**raw))
        except (OSError, ValueError, TypeError):
            return None

    @classmethod
    def create(cls, directory: Path, record: ProcessRecord, spec: dict[str, Any]) -> Process:
        directory.mkdir(parents=True, exist_ok=False)
        (directory / "spec.json").write_text(json.dumps(spec))
        (directory / "record.json").write_text(json.dumps(asdict(record)))
        return cls(directory, record)

    @property
    def cgroup_plan(self) -> cgroups.CgroupPlan:
        return cgroups.CgroupPlan(**self.record.cgroups)

    @property
    def output(self) -> Path:
        return self.dir / "output.log"

    def status(self) -> Status:
        try:
            return Status.parse(json.loads((self.dir / "status.json").read_text()))
        except (OSError, ValueError):
            return Status()

    def alive(self) -> bool:
        """Whether the shim still runs (the app process itself may be between restarts)."""
        return _is_shim(self.status())

    async def spawn(self, forkserver: ForkServer) -> None:
        """Start the shim and wait until it has taken over (written its status)."""
        await forkserver.spawn(self.dir)
        deadline = time.monotonic() + 10
        while self.status().shim_pid is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the supervisor of {self.record.name} did not start: {self.shim_log()}")
            await asyncio.sleep(0.002)

    def shim_log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.dir / "shim.log").read_text()[-2000:]
        return ""

    def signal(self, sig: int) -> bool:
        status = self.status()
        pid = status.shim_pid
        if pid is None or not _is_shim(status):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
            return True
        return False

    def restart(self) -> bool:
        return self.signal(signal.SIGUSR1)

    async def stop(self, grace: float) -> None:
        """Terminate, then remove the directory."""
        await self.terminate(grace)
        await self.remove()

    async def remove(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self.dir, True)

    async def terminate(self, grace: float) -> None:
        """SIGTERM (the shim forwards it, then SIGKILLs after ``grace``) and wait for the shim to end."""
        self.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace + 5
        while self.alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.alive():
            self.signal(signal.SIGKILL)
        cgroups.kill_all(self.cgroup_plan)
        cgroups.remove(self.cgroup_plan)
        if self.record.netns is not None:
            await netns.release(netns.Lease(self.record.netns))

    def tail(self, lines: int = 20) -> list[str]:
        """The last ``lines`` lines of output, without their timestamps."""
        try:
            with open(self.output, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 16384))
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [line.partition(" ")[2] for line in text.splitlines()[-lines:]]


def _is_shim(status: Status) -> bool:
    """The shim that wrote ``status`` still runs (a pid alone could have been reused since)."""
    if status.shim_pid is None:
        return False
    return status.shim_start is not None and start_time(status.shim_pid) == status.shim_start


def scan(processes_dir: Path) -> list[Process]:
    """Every process recorded under ``processes_dir`` (all apps)."""
    if not processes_dir.is_dir():
        return []
    found = [
        Process.load(d)
        for app in sorted(processes_dir.iterdir())
        if app.is_dir()
        for d in sorted(app.iterdir())
    ]
    return [p for p in found if p is not None]


async def stop_all(processes_dir: Path, grace: float) -> int:
    """Stop every process under ``processes_dir`` (all apps) and remove their directories."""
    running = scan(processes_dir)
    await asyncio.gather(*(p.stop(grace) for p in running))
    return len(running)
