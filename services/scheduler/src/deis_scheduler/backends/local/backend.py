"""The local backend: releases run as sandboxed, supervised processes on this machine (ARCHITECTURE §6).

A deploy starts the processes the desired state lacks (new release, new config, more replicas, restarts)
next to the ones that already match it, waits for their readiness and reports the endpoints; the processes
the new state no longer wants are only stopped by :meth:`LocalBackend.retire`, which the reconciler calls
once the router has moved on. Everything lives under the data dir, so processes are re-adopted after a
restart of the scheduler: ``processes/<app>/<name>/`` (see :mod:`.process`), ``apps/<app>.json`` (the last
applied desired state) and ``releases/`` (unpacked slugs and images).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import NoReturn

import structlog

from deis_common import cgroups, netns
from deis_common.events.state import AppState, ProcessInfo
from deis_common.store import ObjectStore
from deis_scheduler.backends.base import DeployError, EventSink, Rollout, RunResult, Selector
from deis_scheduler.backends.local.launcher import Launcher, shell_of
from deis_scheduler.backends.local.monitor import Monitor, exit_reason
from deis_scheduler.backends.local.process import Process, scan
from deis_scheduler.backends.local.releases import ReleaseCache, ReleaseError
from deis_scheduler.backends.local.sandbox import unprivileged_uid
from deis_scheduler.desired import (
    DesiredStateError,
    environment,
    fingerprint,
    min_ready_seconds,
    port_of,
    run_command_for,
    wanted_structure,
)
from deis_scheduler.probes import ExecRunner, Probes, probes_for
from deis_scheduler.settings import SchedulerGroup

log = structlog.get_logger(__name__)

MAX_RUN_OUTPUT = 1024 * 1024
READY_POLL = 0.01


class LocalBackend:
    heals_itself = False
    autoscales_itself = False  # deis_scheduler.autoscaler measures and scales

    def __init__(self, settings: SchedulerGroup, store: ObjectStore, sink: EventSink) -> None:
        self.settings = settings
        self.root = settings.data_dir
        self.processes_dir = self.root / "processes"
        self.apps_dir = self.root / "apps"
        self.releases = ReleaseCache(store, self.root / "releases")
        self.launcher = Launcher(settings, self.processes_dir, unprivileged_uid(settings.sandbox_user))
        self.monitor = Monitor(sink, self._probes, self._exec_runner)
        self._states: dict[str, AppState] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping: set[str] = set()
        # Replaced by a finished deploy, waiting for the router: later deploys do not plan with them.
        self._retiring: set[str] = set()
        self._process_states: dict[str, AppState] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        # Specs and states hold the apps' config: only the scheduler may read them. Sandboxes reach their
        # release through a bind mount, not through this directory.
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        for directory in (self.processes_dir, self.apps_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if self.launcher.isolated:
            reason = netns.available()
            if reason is not None:
                raise RuntimeError(
                    f"app processes cannot get networks of their own: {reason} "
                    "(DEIS_SCHEDULER__NETWORK=host runs them on the host's network, without isolation)"
                )
            await netns.setup(self.settings.network_cidr, self.settings.router_ports)
        for path in self.apps_dir.glob("*.json"):
            with contextlib.suppress(OSError, ValueError):
                state = AppState.model_validate_json(path.read_text())
                self._states[state.app] = state
        for process in scan(self.processes_dir):
            if process.alive():
                self.monitor.add(process)
                log.info("process.adopted", app=process.record.app, process=process.record.name)
            else:
                await process.stop(0)
        if self.launcher.isolated:
            adopted = {p.record.netns for p in self.monitor.processes.values() if p.record.netns is not None}
            reaped = await netns.reap(self.launcher.cgroup_root, adopted)
            if reaped:
                log.info("netns.reaped", count=reaped)
        self._task = asyncio.create_task(self.monitor.run(), name="scheduler:local-monitor")

    async def close(self) -> None:
        """Stop watching; the processes keep running for the next scheduler to adopt."""
        await self.launcher.forkserver.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- remembered desired state ----------------------------------------------------------------

    def remembered(self) -> dict[str, AppState]:
        return dict(self._states)

    def remember(self, state: AppState) -> None:
        self._states[state.app] = state
        tmp = self.apps_dir / f"{state.app}.json.tmp"
        tmp.write_text(state.model_dump_json())
        tmp.replace(self.apps_dir / f"{state.app}.json")

    # -- queries ---------------------------------------------------------------------------------

    def _of(self, app: str) -> list[Process]:
        return sorted(
            (p for p in self.monitor.processes.values() if p.record.app == app),
            key=lambda p: (p.record.type, p.record.slot, p.record.name),
        )

    async def apps(self) -> set[str]:
        return {p.record.app for p in self.monitor.processes.values()}

    async def cpu_seconds(self, app: str) -> dict[str, float]:
        """From each process's cgroup; processes without CPU accounting are left out."""
        used = {p.record.name: cgroups.cpu_seconds(p.cgroup_plan) for p in self._of(app)}
        return {name: seconds for name, seconds in used.items() if seconds is not None}

    def info(self, process: Process) -> ProcessInfo:
        status = process.status()
        record = process.record
        if not process.alive():
            state = "down"
        elif status.state == "crashed":
            state = "crashed"
        elif status.state == "stopped" or record.name in self._stopping:
            state = "terminating"
        elif status.state == "running" and record.name in self.monitor.ready:
            state = "up"
        else:
            state = "starting"
        return ProcessInfo(
            name=record.name,
            type=record.type,
            release=f"v{record.version}",
            state=state,
            started=status.started,
            restarts=status.restarts,
        )

    async def processes(self, app: str) -> list[ProcessInfo]:
        return [self.info(p) for p in self._of(app)]

    def _probes(self, process: Process) -> Probes:
        state = self._state_of(process)
        if state is None:
            return Probes(None, None)
        probes = probes_for(state, process.record.type)
        if self.launcher.isolated:
            return probes  # the process listens on Workflow's PORT at an address of its own, as in a pod
        # On the host's network the process got a free port as PORT: a probe naming Workflow's port for it
        # (5000 for buildpack apps, the image's EXPOSE) means that one.
        workflow_port = port_of(state)
        return Probes(
            *(
                dataclasses.replace(p, port=None) if p is not None and p.port == workflow_port else p
                for p in (probes.readiness, probes.liveness)
            )
        )

    def _state_of(self, process: Process) -> AppState | None:
        """The desired state a process was started with (kept beside it, cached)."""
        name = process.record.name
        if name not in self._process_states:
            with contextlib.suppress(OSError, ValueError):
                self._process_states[name] = AppState.model_validate_json(
                    (process.dir / "state.json").read_text()
                )
        return self._process_states.get(name)

    # -- deploy ----------------------------------------------------------------------------------

    async def deploy(self, state: AppState, *, replace: Selector | None = None, timeout: float) -> Rollout:
        current: list[Process] = []
        dead: list[Process] = []
        for process in self._of(state.app):
            if process.record.name in self._retiring or process.record.name in self._stopping:
                continue
            (current if process.alive() else dead).append(process)
        await self._stop(dead)  # their supervisor is gone (killed): replaced below like any missing process
        keep: list[Process] = []
        slots: list[tuple[str, int, str]] = []
        for ptype, count in wanted_structure(state).items():
            fp = fingerprint(state, ptype)
            matching = [
                p
                for p in current
                if p.record.type == ptype
                and p.record.fingerprint == fp
                and not (replace is not None and replace(self.info(p)))
            ]
            kept = sorted(matching, key=lambda p: p.record.slot)[:count]
            keep += kept
            used = {p.record.slot for p in kept}
            slots += [(ptype, slot, fp) for slot in range(1, count + 1) if slot not in used][
                : count - len(kept)
            ]
        retire = [p for p in current if p not in keep]
        started: list[Process] = []
        if slots:
            started = await self._launch_all(state, slots)
            try:
                await self._wait_ready(state, started, timeout)
                await self._stay_up(state, started)
            except DeployError:
                await self._stop(started)
                raise
        self._retiring.update(p.record.name for p in retire)
        rollout_processes = sorted(keep + started, key=lambda p: (p.record.type, p.record.slot))
        return Rollout(
            app=state.app,
            generation=state.generation,
            version=state.version,
            endpoints=[p.record.endpoint for p in rollout_processes if p.record.endpoint],
            processes=[self.info(p) for p in rollout_processes],
            retire=[p.record.name for p in retire],
            started=[p.record.name for p in started],
        )

    async def _launch_all(self, state: AppState, slots: list[tuple[str, int, str]]) -> list[Process]:
        assert state.build is not None
        taken = {p.record.port for p in self.monitor.processes.values() if p.record.port}
        started: list[Process] = []
        try:
            async with self.releases.using(state.build) as release_dir:
                for ptype, slot, fp in slots:
                    process = await self.launcher.launch(state, ptype, slot, fp, release_dir, taken)
                    self.monitor.add(process)
                    started.append(process)
        except ReleaseError as e:
            raise DeployError(str(e)) from e
        except (DesiredStateError, ValueError, OSError, RuntimeError) as e:
            await self._stop(started)
            raise DeployError(f"cannot start v{state.version}: {e}") from e
        return started

    async def _wait_ready(self, state: AppState, started: list[Process], timeout: float) -> None:
        # Like Workflow's deploy wait: the timeout plus the longest initialDelaySeconds of the new probes.
        delays = [
            probe.initial_delay
            for probes in {p.record.type: self._probes(p) for p in started}.values()
            for probe in (probes.readiness, probes.liveness)
            if probe is not None
        ]
        timeout += max(delays, default=0.0)
        deadline = time.monotonic() + timeout
        while True:
            waiting = [p for p in started if p.record.name not in self.monitor.ready]
            if not waiting:
                return
            for process in waiting:
                status = process.status()
                if status.restarts >= self.settings.crash_limit or not process.alive():
                    _crashed(process, state, f"keeps crashing ({status.restarts} restarts; {{reason}})")
            if time.monotonic() >= deadline:
                process = waiting[0]
                label = f"{process.record.label} of v{state.version}"
                reason = f"{label} did not become ready within {timeout:g}s"
                if failure := self.monitor.not_ready.get(process.record.name):
                    reason += f": readiness probe failed: {failure}"
                raise DeployError(reason, process.tail(20))
            # Probe here, not on the monitor's next tick: readiness is on the deploy's critical path.
            await asyncio.gather(*(self.monitor.check_ready(p) for p in waiting))
            if any(p.record.name not in self.monitor.ready for p in waiting):
                await asyncio.sleep(READY_POLL)

    async def _stay_up(self, state: AppState, started: list[Process]) -> None:
        """The new processes must stay up for the app's window once ready (Kubernetes' minReadySeconds)."""
        window = min_ready_seconds(state, self.settings.min_ready_seconds)
        restarts = {p.record.name: p.status().restarts for p in started}
        until = time.monotonic() + window
        while True:
            for process in started:
                if process.status().restarts > restarts[process.record.name] or not process.alive():
                    _crashed(process, state, f"crashed within {window:g}s of becoming ready ({{reason}})")
            if time.monotonic() >= until:
                return
            await asyncio.sleep(min(READY_POLL * 2, max(0.0, until - time.monotonic())))

    async def retire(self, rollout: Rollout) -> None:
        names = set(rollout.retire)
        await self._stop([p for p in self._of(rollout.app) if p.record.name in names])
        await self.releases.prune(self._release_dirs)

    async def _stop(self, processes: list[Process]) -> None:
        async def stop(process: Process) -> None:
            self._stopping.add(process.record.name)
            try:
                await process.terminate(self.settings.stop_grace)
                await self.monitor.remove(process)  # forwards the last lines first
                await process.remove()
            finally:
                self._stopping.discard(process.record.name)
                self._retiring.discard(process.record.name)
                self._process_states.pop(process.record.name, None)

        await asyncio.gather(*(stop(p) for p in processes))

    def _release_dirs(self) -> set[Path]:
        return {Path(p.record.release_dir) for p in self.monitor.processes.values()}

    async def destroy(self, app: str) -> None:
        await self._stop(self._of(app))
        self._states.pop(app, None)
        with contextlib.suppress(FileNotFoundError):
            (self.apps_dir / f"{app}.json").unlink()
        shutil.rmtree(self.processes_dir / app, ignore_errors=True)
        await self.releases.prune(self._release_dirs)

    # -- one-off runs and exec probes ------------------------------------------------------------

    async def run(self, state: AppState, command: str, timeout: float) -> RunResult:
        if state.build is None:
            raise DeployError("the app has no build to run a command with; deploy it first")
        env = environment(state, "run", port=None)
        try:
            async with self.releases.using(state.build) as release_dir:
                run_argv = run_command_for(state.build, command, shell=shell_of(state, release_dir))
                network = await self.launcher.lease()
                try:
                    sandbox = self.launcher.sandbox(state, release_dir, f"{state.app}-run", network)
                    argv = sandbox.argv(run_argv)
                    return await _run_sandboxed(argv, env, timeout)
                finally:
                    if network is not None:
                        await netns.release(network)
        except ReleaseError as e:
            raise DeployError(str(e)) from e
        except (netns.NetworkError, DesiredStateError) as e:
            raise DeployError(f"cannot start the command: {e}") from e

    def _exec_runner(self, process: Process) -> ExecRunner:
        async def run_exec(command: list[str], timeout: float) -> int:
            spec = json.loads((process.dir / "spec.json").read_text())
            state = self._state_of(process)
            if state is None:
                return 1
            # Next to the process: in its network namespace, so `curl localhost:$PORT` probes it.
            lease = netns.Lease(process.record.netns) if process.record.netns is not None else None
            sandbox = self.launcher.sandbox(
                state, Path(process.record.release_dir), process.record.name, lease
            )
            result = await _run_sandboxed(sandbox.argv(command), spec["env"], timeout)
            return result.exit_code

        return run_exec


def _crashed(process: Process, state: AppState, what: str) -> NoReturn:
    """Fail the deploy for a new process that exited: ``what`` happened, its ``{reason}`` filled in."""
    status = process.status()
    reason = exit_reason(status.last_exit, status.oom_kills > 0).lower()
    raise DeployError(
        f"{process.record.label} of v{state.version} " + what.format(reason=reason), process.tail(20)
    )


async def _run_sandboxed(argv: list[str], env: dict[str, str], timeout: float) -> RunResult:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    output = bytearray()

    async def collect() -> None:
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            if len(output) < MAX_RUN_OUTPUT:
                output.extend(chunk[: MAX_RUN_OUTPUT - len(output)])
        await proc.wait()

    try:
        async with asyncio.timeout(timeout):
            await collect()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        output.extend(f"\nkilled after {timeout:g}s\n".encode())
        return RunResult(exit_code=124, output=output.decode(errors="replace"))
    code = proc.returncode if proc.returncode is not None else 1
    return RunResult(exit_code=code if code >= 0 else 128 - code, output=output.decode(errors="replace"))
