"""Watching supervised processes: log forwarding, crash reports, readiness and liveness.

One loop for all processes of the backend. Each tick it forwards new output lines, notices processes the
shim had to restart (publishing ``containers.crashed`` with the reason, e.g. the memory limit), probes
readiness of processes not yet known ready and liveness of ready ones (a failing liveness probe restarts
the process, like Kubernetes does).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from deis_common.events.containers import ContainersCrashed
from deis_scheduler.backends.base import EventSink
from deis_scheduler.backends.local.logs import LogForwarder
from deis_scheduler.backends.local.process import Process
from deis_scheduler.probes import ExecRunner, Probe, Probes, attempt

log = structlog.get_logger(__name__)

TICK = 0.1
ProbeLookup = Callable[[Process], Probes]
ExecFactory = Callable[[Process], ExecRunner]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def exit_reason(code: int | None, oom: bool) -> str:
    if oom:
        return f"Process exited with status {code} (killed: memory limit exceeded)"
    if code is not None and code < 0:
        return f"Process exited on signal {-code}"
    return f"Process exited with status {code}"


class Monitor:
    def __init__(self, sink: EventSink, probes_for: ProbeLookup, exec_for: ExecFactory) -> None:
        self.sink = sink
        self.logs = LogForwarder(sink)
        self.probes_for = probes_for
        self.exec_for = exec_for
        self.processes: dict[str, Process] = {}
        self.ready: set[str] = set()
        self._restarts: dict[str, int] = {}
        self._oom: dict[str, int] = {}
        self._due: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self.not_ready: dict[str, str] = {}
        """Why the last readiness probe of a process not yet ready failed."""

    def add(self, process: Process) -> None:
        status = process.status()
        self.processes[process.record.name] = process
        self._restarts[process.record.name] = status.restarts
        self._oom[process.record.name] = status.oom_kills

    async def remove(self, process: Process) -> None:
        """Forget a process, forwarding its last lines first."""
        await self.logs.forward(process)
        name = process.record.name
        self.processes.pop(name, None)
        self.ready.discard(name)
        for table in (self._restarts, self._oom, self._due, self._failures, self.not_ready):
            table.pop(name, None)

    async def run(self) -> None:
        while True:
            for process in list(self.processes.values()):
                try:
                    await self._tick(process)
                except Exception:
                    log.exception("monitor.tick_failed", process=process.record.name)
            await asyncio.sleep(TICK)

    async def _tick(self, process: Process) -> None:
        await self.logs.forward(process)
        name = process.record.name
        status = process.status()
        if status.restarts > self._restarts.get(name, 0):
            await self._crashed(process, status.restarts, status.last_exit, status.oom_kills)
        if status.state != "running":
            return
        if name not in self.ready:
            await self.check_ready(process)
            return
        probes = self.probes_for(process)
        now = time.monotonic()
        if now < self._due.get(name, 0):
            return
        probe = probes.liveness
        if probe is None or _too_early(process, probe):  # Kubernetes probes nothing before the delay
            return
        self._due[name] = now + probe.period
        failure = await self._probe(process, probe)
        if failure is None:
            self._failures[name] = 0
            return
        self._failures[name] = self._failures.get(name, 0) + 1
        if self._failures[name] >= probe.failure_threshold:
            self._failures[name] = 0
            self.ready.discard(name)
            note = f"Liveness probe failed ({failure}); restarting the process"
            await self.logs.note(process, _now(), note)
            process.restart()

    async def check_ready(self, process: Process) -> bool:
        """One readiness attempt when one is due; True once the process is known ready."""
        name = process.record.name
        if name in self.ready:
            return True
        now = time.monotonic()
        if now < self._due.get(name, 0) or process.status().state != "running":
            return False
        probe = self.probes_for(process).readiness
        self._due[name] = now + (probe.period if probe else TICK)
        failure = None if probe is None else await self._probe(process, probe)
        if failure is None:
            self.ready.add(name)
            self.not_ready.pop(name, None)
            return True
        self.not_ready[name] = failure
        return False

    async def _probe(self, process: Process, probe: Probe) -> str | None:
        """None when ``probe`` passes, else why not."""
        if _too_early(process, probe):
            return f"waiting {probe.initial_delay:g}s before the first probe (initialDelaySeconds)"
        return await attempt(
            probe, host=process.record.address, port=process.record.port, run_exec=self.exec_for(process)
        )

    async def _crashed(self, process: Process, restarts: int, code: int | None, oom_kills: int) -> None:
        name = process.record.name
        oom = oom_kills > self._oom.get(name, 0) or (code in (-9, 137) and oom_kills > 0)
        self._restarts[name] = restarts
        self._oom[name] = oom_kills
        self.ready.discard(name)
        reason = exit_reason(code, oom)
        await self.logs.forward(process)
        await self.logs.note(process, _now(), reason)
        tail = process.tail(20)
        if not tail or tail[-1] != reason:
            tail.append(reason)
        log.info("process.crashed", app=process.record.app, process=name, exit_code=code, oom=oom)
        await self.sink.crashed(
            ContainersCrashed(
                app=process.record.app,
                process=name,
                type=process.record.type,
                exit_code=code,
                restarts=restarts,
                log_tail=tail,
            )
        )


def _too_early(process: Process, probe: Probe) -> bool:
    """The process started less than the probe's ``initialDelaySeconds`` ago."""
    started = process.status().started
    return started is not None and (datetime.now(UTC) - started).total_seconds() < probe.initial_delay
