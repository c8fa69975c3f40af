"""Probing component health and waiting for a stage to become healthy.

Health means "answers its protocol", not "process exists": NATS's monitoring ``/healthz`` (with JetStream
enabled), ``pg_isready`` for Postgres, any HTTP answer from nginx, and ``GET /healthz`` → 200 from each
service. While waiting, supervisord's view of the process is watched too, so a program that keeps crashing
fails the wait at once (state FATAL) instead of at the timeout; either way the error names the component
and carries the tail of its log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from deis_common import pgserver
from deis_platform.components import Check, Component, HealthCheck
from deis_platform.layout import Layout
from deis_platform.logs import tail_lines
from deis_platform.supervisor import Supervisor

POLL_SECONDS = 0.25
LOG_TAIL_LINES = 25


class ComponentUnhealthy(RuntimeError):
    """A component did not become healthy; the message is meant for the user as is."""

    def __init__(self, component: str, reason: str, log_tail: list[str], log_path: str) -> None:
        self.component = component
        tail = "".join(f"    {line.rstrip()}\n" for line in log_tail if line.strip()) or "    (empty)\n"
        super().__init__(f"{component} {reason}\n  last lines of {log_path}:\n{tail.rstrip()}")


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str


async def probe(check: HealthCheck, client: httpx.AsyncClient) -> Health:
    """Probe once."""
    if check.check is Check.POSTGRES:
        ready = await asyncio.to_thread(pgserver.is_ready, check.port)
        return Health(ready, "accepting connections" if ready else "not accepting connections")
    try:
        response = await client.get(check.url)
    except httpx.HTTPError as e:
        return Health(False, type(e).__name__)
    if check.check is Check.HTTP_ANY or response.status_code == 200:
        return Health(True, f"HTTP {response.status_code}")
    return Health(False, f"HTTP {response.status_code}")


def new_client() -> httpx.AsyncClient:
    # Never route loopback probes through a proxy from the environment.
    return httpx.AsyncClient(timeout=2.0, trust_env=False)


@dataclass
class _Progress:
    """What a wait last saw of one component, for the timeout message."""

    state: str = "not started"
    last: Health = Health(False, "not probed")
    healthy: bool = False


async def _wait_one(
    component: Component,
    supervisor: Supervisor,
    layout: Layout,
    client: httpx.AsyncClient,
    progress: _Progress,
) -> None:
    while True:
        progress.state = supervisor.info(component.name)["statename"]
        if progress.state in ("FATAL", "EXITED", "STOPPED"):
            raise _unhealthy(component, layout, f"is not running (supervisord state {progress.state})")
        # A server that answers while supervisord still counts its startsecs is ready for us.
        if progress.state in ("RUNNING", "STARTING"):
            progress.last = await probe(component.health, client)
            if progress.last.healthy:
                progress.healthy = True
                return
        await asyncio.sleep(POLL_SECONDS)


async def wait_healthy(
    components: list[Component], supervisor: Supervisor, layout: Layout, seconds: float
) -> None:
    """Wait until every component is healthy; raise :class:`ComponentUnhealthy` for the first that is not."""
    progress = {c.name: _Progress() for c in components}
    try:
        async with asyncio.timeout(seconds), new_client() as client, asyncio.TaskGroup() as group:
            for component in components:
                group.create_task(
                    _wait_one(component, supervisor, layout, client, progress[component.name]),
                    name=f"wait-healthy:{component.name}",
                )
    except TimeoutError:
        late = next(c for c in components if not progress[c.name].healthy)
        seen = progress[late.name]
        raise _unhealthy(
            late,
            layout,
            f"did not become healthy within {seconds:.0f}s "
            f"(state {seen.state}, {late.health.describe()}: {seen.last.detail})",
        ) from None
    except ExceptionGroup as group_error:
        # the first failure cancels the other waits; report that one as it is
        first = next((e for e in group_error.exceptions if isinstance(e, ComponentUnhealthy)), None)
        if first is None:
            raise
        raise first from None


def _unhealthy(component: Component, layout: Layout, reason: str) -> ComponentUnhealthy:
    path = layout.log_file(component.name)
    return ComponentUnhealthy(component.name, reason, tail_lines(path, LOG_TAIL_LINES), str(path))
