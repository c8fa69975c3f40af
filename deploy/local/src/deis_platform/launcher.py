"""Bringing the platform up and down, and reporting its status: the launcher's use cases.

``up`` allocates ports, prepares on-disk state (Postgres data dir, nginx bootstrap config, directories),
writes the supervisord config, starts supervisord, then starts the components stage by stage (NATS →
Postgres → router → services), waiting for each stage's health before the next. ``down`` stops the stages in
reverse order and then supervisord, keeping all data. ``status`` asks supervisord and probes each component.

Everything user-facing is returned as values or raised as :class:`LaunchError`; printing is the CLI's job.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from deis_common import natsauth
from deis_common.pgserver import PostgresError
from deis_platform import components as components_mod
from deis_platform import nginx, node, postgres
from deis_platform.components import Component
from deis_platform.env_contract import ContractInputs, service_environment
from deis_platform.executables import console_script
from deis_platform.health import ComponentUnhealthy, new_client, probe, wait_healthy
from deis_platform.layout import Layout
from deis_platform.pgauth import DatabasePasswords
from deis_platform.ports import DEFAULT_PORTS, allocate_ports
from deis_platform.state import PlatformState, Secrets
from deis_platform.supervisor import Supervisor, SupervisorError, write_config

Report = Callable[[str], None]


class LaunchError(RuntimeError):
    """``up`` or ``down`` failed; the message is meant for the user."""


@dataclass(frozen=True)
class UpOptions:
    domain: str | None = None  # None: the recorded domain, else "localhost"
    archive: bool | None = None  # WAL archiving through deis-backup (ARCHITECTURE §9); None: as recorded
    registration_mode: str | None = None  # admin_only, enabled or disabled; None: as recorded
    labels: list[str] | None = None  # node labels k=v replacing the recorded ones; None: as recorded
    forget_labels: bool = False  # drop the recorded node labels (the defaults stay)
    timeout: float = 90.0  # seconds each stage may take to become healthy


@dataclass
class UpResult:
    already_up: bool
    state: PlatformState


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    ports: dict[str, int]
    state: str  # supervisord's state name, or STOPPED when supervisord is not running
    healthy: bool
    detail: str


class Platform:
    """The platform living in one data directory."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.supervisor = Supervisor(layout)

    def _inputs(self, state: PlatformState) -> ContractInputs:
        secrets = Secrets.load_or_create(self.layout.secrets_file)
        return ContractInputs(
            data_dir=self.layout.root,
            ports=state.ports,
            domain=state.domain,
            builder_key=secrets.builder_key,
            database_passwords=self._database_passwords(),
            nats_credentials=natsauth.NatsCredentials.load_or_create(self.layout.nats_credentials),
            registration_mode=state.registration_mode,
            node_labels=node.node_labels(state.labels),
        )

    def _database_passwords(self) -> DatabasePasswords:
        return DatabasePasswords.load_or_create(self.layout.postgres_credentials)

    def components(self, state: PlatformState) -> list[Component]:
        return components_mod.build(self.layout, self._inputs(state), archive=state.archive)

    def is_up(self) -> bool:
        return self.supervisor.is_running()

    # -- up -----------------------------------------------------------------------------------------------
    def up(self, options: UpOptions, report: Report) -> UpResult:
        self.layout.create()
        state = PlatformState.load(self.layout.state_file)
        try:
            labels = node.chosen_labels(state.labels, options.labels, forget=options.forget_labels)
        except node.LabelError as e:
            raise LaunchError(str(e)) from e
        if self.supervisor.is_running():
            if labels != state.labels:
                state.labels = labels
                state.save(self.layout.state_file)
                report(
                    "node labels recorded; the controller checks tags against them from its next start "
                    "(deis-platform down, then up)"
                )
            # Keep what is running (ports, config); only start what is not running any more.
            components = self.components(state)
            if all(s.healthy for s in self.status()):
                return UpResult(already_up=True, state=state)
            report("supervisord is running but some components are not; starting them")
            self._start_stages(components, state, options, report)
            return UpResult(already_up=False, state=self._record_pids(state))

        recorded, recorded_domain = dict(state.ports), state.domain
        state.ports = allocate_ports(recorded)
        state.domain = options.domain or state.domain
        # what the router's config bakes in; when it changed, router-sync's config must be rewritten
        router_changed = state.domain != recorded_domain or any(
            recorded.get(role) != state.ports[role] for role in ("router_http", "router_https", "controller")
        )
        state.archive = state.archive if options.archive is None else options.archive
        state.registration_mode = options.registration_mode or state.registration_mode
        state.labels = labels
        state.pids = {}
        state.save(self.layout.state_file)
        for role, port in state.ports.items():
            wanted = recorded.get(role, DEFAULT_PORTS[role])
            if port != wanted:
                report(f"port {wanted} ({role}) is taken, using {port}")
        components = self.components(state)
        try:
            self._prepare(state, report, router_changed=router_changed)
        except PostgresError as e:
            raise LaunchError(f"postgres: {e}\n\nlogs: {self.layout.logs_dir}") from e
        write_config(self.layout, components)
        try:
            self.supervisor.launch()
        except SupervisorError as e:
            raise LaunchError(str(e)) from e
        try:
            self._start_stages(components, state, options, report)
        except (ComponentUnhealthy, PostgresError) as e:
            report("stopping the platform again (data is kept)")
            self._stop_all(components, report=lambda _: None)
            raise LaunchError(f"{e}\n\nlogs: {self.layout.logs_dir}") from e
        state.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        return UpResult(already_up=False, state=self._record_pids(state))

    def _prepare(self, state: PlatformState, report: Report, *, router_changed: bool) -> None:
        inputs = self._inputs(state)
        if inputs.nats_credentials is not None:
            # rewritten at every `up`, so the permissions follow the installed version
            natsauth.write_config(self.layout.nats_config, inputs.nats_credentials)
        wal_push = f"{console_script('deis-backup')} wal-push %p"
        outcome = postgres.prepare(
            self.layout.pgdata,
            passwords=inputs.database_passwords,
            store_dir=self.layout.store_dir,
            extra_settings=postgres.archive_settings(enabled=state.archive, wal_push_command=wal_push),
            backup_env=service_environment("backup", inputs),
        )
        if outcome != "reused":
            report(f"postgres: data directory {outcome} at {self.layout.pgdata}")
        if state.archive:
            if postgres.prepare_archive(service_environment("backup", inputs)):
                report("postgres: WAL archiving into the store through deis-backup")
            else:
                report(
                    "postgres: WAL archiving is on, but deis-backup has no `init` verb to prepare the store"
                )
        self._prepare_router(state, inputs, rewrite=router_changed, report=report)

    def _prepare_router(
        self, state: PlatformState, inputs: ContractInputs, *, rewrite: bool, report: Report
    ) -> None:
        try:
            done = nginx.run_router_sync_bootstrap(service_environment("router-sync", inputs), force=rewrite)
        except nginx.RouterBootstrapFailed as e:
            raise LaunchError(str(e)) from e
        if done is not None:
            report(f"router: {done}")
        elif nginx.prepare_prefix(
            self.layout.router_prefix,
            http_port=state.ports["router_http"],
            domain=state.domain,
            controller_port=state.ports["controller"],
        ):
            report("router: wrote the bootstrap nginx config (router-sync replaces it)")

    def _start_stages(
        self, components: list[Component], state: PlatformState, options: UpOptions, report: Report
    ) -> None:
        for stage in components_mod.stages(components):
            names = ", ".join(c.name for c in stage)
            started = time.monotonic()
            for component in stage:
                self.supervisor.start(component.name)
            asyncio.run(wait_healthy(stage, self.supervisor, self.layout, options.timeout))
            report(f"{names}: healthy in {time.monotonic() - started:.1f}s")
            if any(c.name == "postgres" for c in stage) and postgres.ensure_database(
                state.ports["postgres"], self._database_passwords()
            ):
                report(f"postgres: created database {postgres.DATABASE!r}")

    def _record_pids(self, state: PlatformState) -> PlatformState:
        state.pids = {name: (info["pid"] or None) for name, info in self.supervisor.all_info().items()}
        state.supervisord_pid = self.supervisor.pid()
        state.save(self.layout.state_file)
        return state

    # -- down ---------------------------------------------------------------------------------------------
    def down(self, report: Report) -> bool:
        """Stop everything, keep the data. False when nothing was running."""
        if not self.supervisor.is_running():
            return False
        state = PlatformState.load(self.layout.state_file)
        self._stop_all(self.components(state), report)
        self._stop_apps(state, report)
        state.pids = {}
        state.supervisord_pid = None
        state.save(self.layout.state_file)
        return True

    def _stop_apps(self, state: PlatformState, report: Report) -> None:
        """App processes outlive the scheduler by design (it re-adopts them); `down` means everything."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEIS_")}
        env.update(service_environment("scheduler", self._inputs(state)))
        stopped = subprocess.run(
            [console_script("deis-scheduler"), "stop-processes"], env=env, capture_output=True, text=True
        )
        if stopped.returncode != 0:
            raise LaunchError(f"could not stop the apps: {stopped.stderr.strip() or stopped.stdout.strip()}")
        report(stopped.stdout.strip())

    def _stop_all(self, components: list[Component], report: Report) -> None:
        try:
            for stage in reversed(components_mod.stages(components)):
                report(f"stopping {', '.join(c.name for c in stage)}")
                # supervisord escalates to SIGKILL after stopwaitsecs; allow for that plus a margin
                grace = max(c.stop_wait_seconds for c in stage) + 10
                self.supervisor.stop([c.name for c in stage], timeout=grace)
            report("stopping supervisord")
            self.supervisor.shutdown()
        except SupervisorError as e:
            raise LaunchError(str(e)) from e

    # -- status -------------------------------------------------------------------------------------------
    def status(self) -> list[ComponentStatus]:
        state = PlatformState.load(self.layout.state_file)
        components = self.components(state)
        if not self.supervisor.is_running():
            return [
                ComponentStatus(c.name, None, c.ports, "STOPPED", False, "platform is down")
                for c in components
            ]
        infos = self.supervisor.all_info()
        return asyncio.run(self._probe_all(components, infos))

    async def _probe_all(
        self, components: list[Component], infos: dict[str, dict[str, object]]
    ) -> list[ComponentStatus]:
        async with new_client() as client:
            healths = await asyncio.gather(*(probe(c.health, client) for c in components))
        rows = []
        for component, health in zip(components, healths, strict=True):
            info = infos.get(component.name, {})
            state = str(info.get("statename", "UNKNOWN"))
            pid = info.get("pid") if state == "RUNNING" else None
            rows.append(
                ComponentStatus(
                    name=component.name,
                    pid=pid if isinstance(pid, int) and pid > 0 else None,
                    ports=component.ports,
                    state=state,
                    healthy=state == "RUNNING" and health.healthy,
                    detail=health.detail,
                )
            )
        return rows
