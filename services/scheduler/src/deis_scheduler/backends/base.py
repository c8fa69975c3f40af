"""The seam between the reconciler and whatever runs processes: the :class:`Backend` Protocol.

The reconciler decides *when* (ordering, generations, routes); a backend decides *how*: it brings up the
processes of a desired state next to the running ones and reports their endpoints (:meth:`Backend.deploy`),
retires what the new state replaced once routes point elsewhere (:meth:`Backend.retire`), and answers for
ps, restart, destroy and one-off runs. Backends tell the outside world about crashes and log lines through
an :class:`EventSink`, never by publishing on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from deis_common.errors import DeisError
from deis_common.events.containers import ContainersCrashed
from deis_common.events.state import AppState, ProcessInfo

Selector = Callable[[ProcessInfo], bool]
"""Chooses running processes to replace even though they match the desired state (restart)."""


class DeployError(DeisError):
    """The new processes did not become ready; nothing of the previous release was touched."""

    def __init__(self, reason: str, log_tail: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log_tail = log_tail or []


@dataclass
class Rollout:
    """What a deploy brought up, and what must go once the router has moved to it."""

    app: str
    generation: int
    version: int
    endpoints: list[str] = field(default_factory=list)
    processes: list[ProcessInfo] = field(default_factory=list)
    retire: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    output: str


class EventSink(Protocol):
    async def log(self, app: str, line: str) -> None:
        """Append a formatted line to the app's log."""

    async def crashed(self, event: ContainersCrashed) -> None:
        """A process exited on its own (it is being restarted)."""


class Backend(Protocol):
    heals_itself: bool
    """True when the platform underneath restarts lost processes itself (Kubernetes): no resync needed."""

    autoscales_itself: bool
    """True when the platform underneath runs the autoscaler (Kubernetes' HPA): the scheduler's stays idle."""

    async def start(self) -> None:
        """Connect / re-adopt what already runs. Processes must survive :meth:`close`."""

    async def close(self) -> None: ...

    def remembered(self) -> dict[str, AppState]:
        """The last desired state applied per app, as kept across restarts (may be empty)."""

    def remember(self, state: AppState) -> None: ...

    async def deploy(self, state: AppState, *, replace: Selector | None = None, timeout: float) -> Rollout:
        """Bring up ``state`` next to what runs; raise :class:`DeployError` when it does not get ready."""

    async def retire(self, rollout: Rollout) -> None:
        """Stop what ``rollout`` replaced (SIGTERM, grace period, SIGKILL)."""

    async def destroy(self, app: str) -> None:
        """Remove every process and trace of the app."""

    async def processes(self, app: str) -> list[ProcessInfo]: ...

    async def apps(self) -> set[str]:
        """Apps that have anything running."""

    async def cpu_seconds(self, app: str) -> dict[str, float]:
        """CPU time each process of the app used so far (process name -> seconds), where it is accounted."""

    async def run(self, state: AppState, command: str, timeout: float) -> RunResult:
        """A one-off process with the app's release and config; its exit code and output."""
