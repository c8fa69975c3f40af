"""``/v2/apps/<id>/scale``, ``/pods`` (ps and restart) and ``/run`` (one-off commands).

Like Workflow, scale and restart answer once they are done (bounded by ``deploy_wait``): a scale once the
processes it removed are gone, a restart once fresh processes (with new names) replaced the chosen ones;
the original CLI lists the processes right after and shows what it gets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field, RootModel

from deis_common.bus import Watch, WatchTimeout
from deis_common.errors import BusError
from deis_common.events.apps import RestartRequested, RunRequested
from deis_common.events.deploys import DeployFailed
from deis_common.events.runs import RunFinished
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import ProcessInfo
from deis_common.podnames import full_name, suffix
from deis_controller.domain import processes
from deis_controller.errors import BadRequest, Unavailable
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.context import add, controller
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.respond import empty, ok
from deis_controller.http.rollout import rollout
from deis_controller.records import App


class ScaleRequest(RootModel[dict[str, int | str]]):
    """Process type -> number of processes (a numeric string counts too)."""


class RunRequest(BaseModel):
    command: str = Field(description="shell command run in a one-off process of the current release")


class RunResponse(BaseModel):
    exit_code: int
    output: str


class PodResponse(BaseModel):
    name: str = Field(description="<app>-<type>-<id>")
    state: Literal[
        "initializing", "creating", "starting", "up", "terminating", "down", "destroyed", "crashed", "error"
    ]
    type: str
    release: str = Field(description="v<N>")
    started: str = Field(description="when the process started (now, when not known)")


class PodListResponse(BaseModel):
    """``deis ps``: not paginated, a count and the pods."""

    count: int
    results: list[PodResponse]


@doc(request=ScaleRequest, status=204)
async def scale(request: web.Request) -> web.Response:
    data = await body(request)
    ctl = controller(request)
    deadline = time.monotonic() + ctl.settings.deploy_wait
    async with rollout(ctl) as deploy:
        async with ctl.work() as work:
            user, app = await authorize(work, request, lock=True)
            generation = await processes.scale(work, app, user.username, data)
        if generation is not None:
            reason = await deploy.failure(app.id, generation)
            if reason is not None:
                raise Unavailable(reason)
    if generation is not None and ctl.settings.deploy_wait > 0:
        # Scaling down retires processes once the router has moved away from them: done when they are gone.
        wanted = {str(t): processes.count(n) for t, n in data.items()}
        await _until(request, app, deadline, lambda listed: processes.scaled(listed, wanted))
    return empty()


async def _live(request: web.Request, app: App) -> list[ProcessInfo] | None:
    """The scheduler's process list; None when it does not answer."""
    ctl = controller(request)
    try:
        reply = await ctl.bus.request(
            PS_SUBJECT, PsRequest(app=app.id), PsReply, timeout=ctl.settings.ps_timeout
        )
    except BusError:
        return None
    return list(reply.processes)


async def _processes(request: web.Request, app: App) -> list[ProcessInfo]:
    live = await _live(request, app)
    return live if live is not None else [ProcessInfo.model_validate(p) for p in app.processes]


POLL = 0.1


async def _until(
    request: web.Request,
    app: App,
    deadline: float,
    done: Callable[[list[ProcessInfo]], bool],
    failed: Watch | None = None,
) -> None:
    """Poll the scheduler's process list until ``done`` (or the deadline, or the scheduler is silent).

    With ``failed`` (a watch on ``deploys.failed``), a failed deploy of the app ends the wait with its reason.
    """
    while time.monotonic() < deadline:
        live = await _live(request, app)
        if live is None or done(live):
            return
        if failed is not None and (event := failed.arrived(DeployFailed, where=lambda e: e.app == app.id)):
            raise Unavailable(event.reason)
        await asyncio.sleep(POLL)


def _name(app_id: str, name: str | None) -> str | None:
    return full_name(app_id, name) if name is not None else None


@doc(response=PodListResponse)
async def list_pods(request: web.Request) -> web.Response:
    async with controller(request).read() as work:
        _, app = await authorize(work, request)
    found = processes.pods(
        await _processes(request, app),
        request.match_info.get("type"),
        _name(app.id, request.match_info.get("name")),
    )
    return ok({"count": len(found), "results": found})


@doc(response=PodResponse, listed=True)
async def restart(request: web.Request) -> web.Response:
    """Replace the chosen processes with fresh ones (new names) and answer with their successors."""
    ctl = controller(request)
    deadline = time.monotonic() + ctl.settings.deploy_wait
    async with ctl.read() as work:
        user, app = await authorize(work, request)
    proctype = request.match_info.get("type")
    name = _name(app.id, request.match_info.get("name"))
    chosen = processes.pods(await _processes(request, app), proctype, name)
    async with ctl.bus.watch(DeployFailed) as failed:
        await ctl.bus.publish(RestartRequested(app=app.id, type=proctype, process=name))
        await ctl.app_log(app.id, f"{user.username} restarted {name or proctype or 'all'} processes")
        if chosen and ctl.settings.deploy_wait > 0:
            replaced = {p["name"] for p in chosen}
            structure = {p["type"]: app.structure.get(p["type"], 0) for p in chosen}

            def done(listed: list[ProcessInfo]) -> bool:
                return processes.restarted(listed, replaced, structure)

            await _until(request, app, deadline, done, failed)
    found = processes.pods(await _processes(request, app), proctype)
    return ok(found[:1] if name else found)  # for one process: the newest of its type, its successor


@doc(request=RunRequest, response=RunResponse)
async def run(request: web.Request) -> web.Response:
    ctl = controller(request)
    data = await body(request)
    command = data.get("command")
    if not command or not isinstance(command, str):
        raise BadRequest("command is a required field")
    async with ctl.read() as work:
        user, app = await authorize(work, request)
        state = await processes.run_state(work, app)
    run_id = suffix()
    timeout = ctl.settings.run_timeout
    async with ctl.bus.watch(RunFinished) as finished:
        await ctl.bus.publish(
            RunRequested(app=app.id, run_id=run_id, command=command, state=state, timeout_seconds=timeout)
        )
        await ctl.app_log(app.id, f"{user.username} on {app.id}-run-{run_id} runs '{command}'")
        try:
            event = await finished.first(
                RunFinished, where=lambda e: e.run_id == run_id and e.app == app.id, timeout=timeout + 30
            )
        except WatchTimeout as e:
            raise Unavailable(f"{app.id}-run-{run_id} did not finish within {timeout:.0f} seconds") from e
    return ok({"exit_code": event.exit_code, "output": event.output})


def setup(app: web.Application) -> None:
    add(app, "POST", APP + "/scale", scale)
    add(app, "POST", APP + "/run", run)
    add(app, "GET", APP + "/pods", list_pods)
    add(app, "POST", APP + "/pods/restart", restart)
    add(app, "GET", APP + "/pods/{type:[-_\\w.]+}", list_pods)
    add(app, "POST", APP + "/pods/{type:[-_\\w.]+}/restart", restart)
    add(app, "GET", APP + "/pods/{type:[-_\\w.]+}/{name:[-_\\w.]+}", list_pods)
    add(app, "POST", APP + "/pods/{type:[-_\\w.]+}/{name:[-_\\w.]+}/restart", restart)
