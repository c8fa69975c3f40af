"""``/v2/apps/<id>/scale``, ``/pods`` (ps and restart) and ``/run`` (one-off commands)."""

from __future__ import annotations

import asyncio
import secrets
import string
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, RootModel

from deis_common.errors import BusError
from deis_common.events.apps import RestartRequested, RunRequested
from deis_common.events.runs import RunFinished
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import ProcessInfo
from deis_controller.db import releases as releases_db
from deis_controller.domain import processes
from deis_controller.domain.state import app_state
from deis_controller.errors import BadRequest, Unavailable
from deis_controller.http.access import authorize
from deis_controller.http.apps import APP
from deis_controller.http.context import add, controller
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.respond import empty, ok
from deis_controller.http.rollout import rollout


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
    async with rollout(ctl) as deploy:
        async with ctl.work() as work:
            user, app = await authorize(work.tx, request, lock=True)
            generation = await processes.scale(work, app, user.username, data)
        if generation is not None:
            reason = await deploy.failure(app["id"], generation)
            if reason is not None:
                raise Unavailable(reason)
    return empty()


async def _processes(request: web.Request, app: dict[str, Any]) -> list[ProcessInfo]:
    ctl = controller(request)
    try:
        reply = await ctl.bus.request(
            PS_SUBJECT, PsRequest(app=app["id"]), PsReply, timeout=ctl.settings.ps_timeout
        )
        return list(reply.processes)
    except BusError:
        return [ProcessInfo.model_validate(p) for p in app["processes"]]


def _name(app_id: str, name: str | None) -> str | None:
    if name is not None and name.count("-") == 2 and not name.startswith(app_id + "-"):
        return f"{app_id}-{name}"
    return name


@doc(response=PodListResponse)
async def list_pods(request: web.Request) -> web.Response:
    async with controller(request).db.read() as tx:
        _, app = await authorize(tx, request)
    found = processes.pods(
        await _processes(request, app),
        request.match_info.get("type"),
        _name(app["id"], request.match_info.get("name")),
    )
    return ok({"count": len(found), "results": found})


@doc(response=PodResponse, listed=True)
async def restart(request: web.Request) -> web.Response:
    ctl = controller(request)
    async with ctl.db.read() as tx:
        user, app = await authorize(tx, request)
    proctype = request.match_info.get("type")
    name = _name(app["id"], request.match_info.get("name"))
    await ctl.bus.publish(RestartRequested(app=app["id"], type=proctype, process=name))
    await ctl.app_log(app["id"], f"{user.username} restarted {name or proctype or 'all'} processes")
    found = processes.pods(await _processes(request, app), proctype, name)
    return ok(found[:1] if name else found)


@doc(request=RunRequest, response=RunResponse)
async def run(request: web.Request) -> web.Response:
    ctl = controller(request)
    data = await body(request)
    command = data.get("command")
    if not command or not isinstance(command, str):
        raise BadRequest("command is a required field")
    async with ctl.db.read() as tx:
        user, app = await authorize(tx, request)
        current = await releases_db.current(tx, app["uuid"])
        if current is None or current["build_uuid"] is None:
            raise BadRequest("No build associated with this release to run this command")
        state = await app_state(tx, app, current)
    run_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(5))
    timeout = ctl.settings.run_timeout
    async with ctl.bus.watch(RunFinished) as finished:
        await ctl.bus.publish(
            RunRequested(app=app["id"], run_id=run_id, command=command, state=state, timeout_seconds=timeout)
        )
        await ctl.app_log(app["id"], f"{user.username} on {app['id']}-run-{run_id} runs '{command}'")
        try:
            async with asyncio.timeout(timeout + 30):
                while True:
                    event = (await finished.get()).open(RunFinished)
                    if event.run_id == run_id and event.app == app["id"]:
                        break
        except TimeoutError as e:
            raise Unavailable(f"{app['id']}-run-{run_id} did not finish within {timeout:.0f} seconds") from e
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
