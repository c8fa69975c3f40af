"""A backend that runs nothing: every deploy reports its processes ready after a set delay.

For measuring the control plane without app processes in the way (``bench/control_plane.py``) and for
tests of the scheduler's own logic at scale. It plans like a real backend (one process per replica of each
type, the previous generation's retired once routes moved), keeps the processes it pretends to run in
memory only, and gives each web process an endpoint no one listens on (``127.0.0.1:<port>``, stable per
app), which is enough for a router to render and reload. Selected with ``DEIS_SCHEDULER__BACKEND=simulated``.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime

from deis_common.events.state import AppState, ProcessInfo
from deis_scheduler.backends.base import Rollout, RunResult, Selector
from deis_scheduler.settings import SimulatedSettings

ROUTABLE = ("web", "cmd")


def simulated_port(app: str, index: int = 0) -> int:
    """The port the simulated process ``index`` of ``app`` pretends to listen on (stable across restarts:
    28 bits of the md5 of the name, so a database can compute it too)."""
    return 20000 + (int(hashlib.md5(app.encode()).hexdigest()[:7], 16) + index) % 40000


class SimulatedBackend:
    heals_itself = True  # nothing runs, so nothing can be lost

    autoscales_itself = True  # nothing to measure: the scheduler's autoscaler stays idle

    def __init__(self, settings: SimulatedSettings) -> None:
        self.settings = settings
        self._running: dict[str, list[ProcessInfo]] = {}
        self.deploys = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def remembered(self) -> dict[str, AppState]:
        return {}

    def remember(self, state: AppState) -> None:
        return None

    async def deploy(self, state: AppState, *, replace: Selector | None = None, timeout: float) -> Rollout:
        release = f"v{state.version}"
        if state.app not in self._running and self.settings.adopt:
            self._running[state.app] = [
                ProcessInfo(name=f"{state.app}-{ptype}-{index}", type=ptype, release=release)
                for ptype, count in sorted(state.structure.items())
                for index in range(count)
            ]
        running = self._running.get(state.app, [])
        keep = [
            p
            for p in running
            if p.release == release
            and state.structure.get(p.type, 0) > 0
            and (replace is None or not replace(p))
        ]
        wanted = [
            (ptype, index)
            for ptype, count in sorted(state.structure.items())
            for index in range(count)
            if not any(p.type == ptype and p.name.endswith(f"-{index}") for p in keep)
        ]
        if wanted:
            await asyncio.sleep(self.settings.delay)
        now = datetime.now(UTC)
        started = [
            ProcessInfo(name=f"{state.app}-{ptype}-{index}", type=ptype, release=release, started=now)
            for ptype, index in wanted
        ]
        processes = keep + started
        self._running[state.app] = processes
        self.deploys += 1
        endpoints = [
            f"127.0.0.1:{simulated_port(state.app, i)}" for i, p in enumerate(processes) if p.type in ROUTABLE
        ]
        return Rollout(
            app=state.app,
            generation=state.generation,
            version=state.version,
            endpoints=endpoints,
            processes=processes,
            retire=[p.name for p in running if p not in keep],
            started=[p.name for p in started],
        )

    async def retire(self, rollout: Rollout) -> None:
        return None

    async def destroy(self, app: str) -> None:
        self._running.pop(app, None)

    async def cpu_seconds(self, app: str) -> dict[str, float]:
        return {}  # nothing runs, nothing is measured

    async def processes(self, app: str) -> list[ProcessInfo]:
        return list(self._running.get(app, []))

    async def apps(self) -> set[str]:
        return set(self._running)

    async def run(self, state: AppState, command: str, timeout: float) -> RunResult:
        await asyncio.sleep(self.settings.delay)
        return RunResult(exit_code=0, output="")
