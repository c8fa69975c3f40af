"""Turning one process slot of a desired state into a running, supervised sandbox.

Owns the choices made at launch: the process name, its network (a namespace and address of its own, where
it listens on Workflow's ``PORT``; or, sharing the host's network, a free loopback port), its environment,
its sandbox command line and its cgroup limits, all written into the process directory for the shim.
"""

from __future__ import annotations

import dataclasses
import hashlib
import socket
from pathlib import Path

from deis_common import cgroups, netns
from deis_common.events.state import AppState
from deis_common.podnames import process_name
from deis_scheduler.backends.local.forkserver import ForkServer
from deis_scheduler.backends.local.process import Process, ProcessRecord
from deis_scheduler.backends.local.releases import image_shell
from deis_scheduler.backends.local.sandbox import Sandbox
from deis_scheduler.desired import (
    BUILDPACK_PORT,
    IMAGE_SHELLS,
    command_for,
    environment,
    is_routable,
    port_of,
    workdir_for,
)
from deis_scheduler.limits import cpu_cores, memory_bytes
from deis_scheduler.settings import SchedulerGroup


def cgroup_root_name(data_dir: Path) -> str:
    """Per-installation cgroup directory, so two platforms on one machine never share limits."""
    return "deis-" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]


def shell_of(state: AppState, release_dir: Path) -> str | None:
    """The shell an image's commands run through here (its files are at hand); None for slugs."""
    if state.build is None or state.build.kind == "buildpack":
        return None
    return image_shell(release_dir, IMAGE_SHELLS) or ""


def free_port(taken: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port


class Launcher:
    def __init__(self, settings: SchedulerGroup, processes_dir: Path, run_as: int | None) -> None:
        self.settings = settings
        self.processes_dir = processes_dir
        self.run_as = run_as
        self.cgroup_root = cgroup_root_name(settings.data_dir)
        self.forkserver = ForkServer()

    @property
    def isolated(self) -> bool:
        return self.settings.network == "isolated"

    async def lease(self) -> netns.Lease | None:
        """A network namespace of its own for one sandbox (None when sharing the host's network)."""
        if not self.isolated:
            return None
        return await netns.allocate(self.cgroup_root, self.settings.network_cidr)

    def sandbox(
        self, state: AppState, release_dir: Path, hostname: str, network: netns.Lease | None
    ) -> Sandbox:
        assert state.build is not None
        return Sandbox(
            root=release_dir,
            image=state.build.kind != "buildpack",
            workdir=workdir_for(state.build),
            hostname=hostname,
            run_as=self.run_as,
            network=network,
        )

    async def launch(
        self,
        state: AppState,
        ptype: str,
        slot: int,
        fingerprint: str,
        release_dir: Path,
        taken_ports: set[int],
    ) -> Process:
        network = await self.lease()
        try:
            return await self._launch(state, ptype, slot, fingerprint, release_dir, taken_ports, network)
        except BaseException:
            if network is not None:
                await netns.release(network)
            raise

    async def _launch(
        self,
        state: AppState,
        ptype: str,
        slot: int,
        fingerprint: str,
        release_dir: Path,
        taken_ports: set[int],
        network: netns.Lease | None,
    ) -> Process:
        assert state.build is not None
        name = process_name(state.app, ptype, fingerprint)  # Workflow's shape: a new suffix every launch
        port: int | None = None
        if is_routable(ptype) and network is not None:
            port = port_of(state) or BUILDPACK_PORT  # its own address: Workflow's port, as in a pod
        elif is_routable(ptype):
            port = free_port(taken_ports)
            taken_ports.add(port)
        plan = cgroups.plan(self.cgroup_root, state.app, name)
        memory = memory_bytes(state.memory.get(ptype))
        try:
            cgroups.create(plan, memory=memory, cpu=cpu_cores(state.cpu.get(ptype)))
        except OSError:
            plan = cgroups.CgroupPlan()  # not writable after all: rlimits only
        record = ProcessRecord(
            app=state.app,
            name=name,
            type=ptype,
            slot=slot,
            version=state.version,
            generation=state.generation,
            fingerprint=fingerprint,
            port=port,
            release_dir=str(release_dir),
            address=network.address if network is not None else "127.0.0.1",
            netns=network.index if network is not None else None,
            cgroups=dataclasses.asdict(plan),
        )
        spec = {
            "argv": self.sandbox(state, release_dir, name, network).argv(
                command_for(state.build, ptype, shell=shell_of(state, release_dir))
            ),
            "env": environment(state, ptype, port=port),
            "cgroups": record.cgroups,
            "memory_fallback": memory,
            "grace": self.settings.stop_grace,
            "backoff": self.settings.restart_backoff,
            "backoff_max": self.settings.restart_backoff_max,
            "max_output": self.settings.output_rotate_bytes,
        }
        process = Process.create(self.processes_dir / state.app / name, record, spec)
        (process.dir / "state.json").write_text(state.model_dump_json())
        await process.spawn(self.forkserver)
        return process
