"""Scaling, ps, restart and one-off runs."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

from deis_common.bus import Bus
from deis_common.events.apps import AppScaled, RestartRequested, RunRequested
from deis_common.events.containers import ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.events.runs import RunFinished
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import ProcessInfo
from deis_common.podnames import process_name
from deis_common.testing.reacting import reacting
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import RunningController, running_controller

PROCFILE = {"web": "python app.py", "worker": "python worker.py"}
WORKFLOW_NAME = re.compile(r"^demo-(web|worker)-[0-9]{8,10}-[a-z0-9]{5}$")


async def image_app(api: RunningController, token: str) -> None:
    await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
    r = await api.call("POST", "/v2/apps/demo/builds/", token, json={"image": "ex/img", "procfile": PROCFILE})
    assert r.status == 201, r.text


async def test_scaling_publishes_the_new_structure_with_the_full_state(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    await image_app(api, alice)
    r = await api.call("POST", "/v2/apps/demo/scale/", alice, json={"web": 3, "worker": "2"})
    assert r.status == 204, r.text
    scaled = await recorder.wait_for(AppScaled, where=lambda e: e.app == "demo")
    assert scaled.structure == {"web": 3, "worker": 2}
    assert scaled.state.structure == scaled.structure and scaled.state.build is not None
    r = await api.call("GET", "/v2/apps/demo/", alice)
    assert r.json["structure"] == {"web": 3, "worker": 2}


async def test_scaling_rejects_bad_counts_and_unknown_types(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "fresh"})
    r = await api.call("POST", "/v2/apps/fresh/scale/", alice, json={"web": 1})
    assert (r.status, r.json) == (400, {"detail": "No build associated with this release"})
    await image_app(api, alice)
    r = await api.call("POST", "/v2/apps/demo/scale/", alice, json={"web": "not_an_int"})
    assert r.status == 400
    assert r.json["detail"] == "Invalid scaling format: invalid literal for int() with base 10: 'not_an_int'"
    r = await api.call("POST", "/v2/apps/demo/scale/", alice, json={"web": -1})
    assert r.json == {"detail": "Invalid scaling format: ['Must be greater than or equal to zero']"}
    r = await api.call("POST", "/v2/apps/demo/scale/", alice, json={"db": 1})
    assert (r.status, r.json) == (404, {"detail": "Container type db does not exist in application"})


async def test_ps_asks_the_scheduler_and_hides_one_off_processes(
    api: RunningController, alice: str, bus: Bus
) -> None:
    await image_app(api, alice)

    async def ps(request: PsRequest) -> PsReply:
        return PsReply(
            app=request.app,
            processes=[
                ProcessInfo(name="demo-web-1", type="web", release="v2"),
                ProcessInfo(name="demo-run-abcde", type="run", release="v2"),
            ],
        )

    sub = await bus.serve(PS_SUBJECT, PsRequest, ps, queue="scheduler")
    try:
        r = await api.call("GET", "/v2/apps/demo/pods/", alice)
        assert r.json["count"] == 1 and r.json["results"][0]["name"] == "demo-web-1"
        r = await api.call("GET", "/v2/apps/demo/pods/worker/", alice)
        assert r.json == {"count": 0, "results": []}
    finally:
        await sub.unsubscribe()


async def test_restart_asks_the_scheduler_to_restart_one_type(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    await image_app(api, alice)
    r = await api.call("POST", "/v2/apps/demo/pods/web/restart/", alice)
    assert r.status == 200 and r.json == []
    restart = await recorder.wait_for(RestartRequested, where=lambda e: e.app == "demo")
    assert restart.type == "web" and restart.process is None


def fake_runner(bus: Bus) -> contextlib.AbstractAsyncContextManager[None]:
    async def answer(request: RunRequested) -> None:
        await bus.publish(
            RunFinished(
                app=request.app, run_id=request.run_id, exit_code=3, output=f"ran {request.command}\n"
            )
        )

    return reacting(bus, RunRequested, to=answer)


async def test_run_waits_for_the_one_off_process_and_returns_its_exit_code_and_output(
    api: RunningController, alice: str, bus: Bus
) -> None:
    await image_app(api, alice)
    async with fake_runner(bus):
        r = await api.call("POST", "/v2/apps/demo/run/", alice, json={"command": "echo hi"})
    assert r.status == 200, r.text
    assert r.json == {"exit_code": 3, "output": "ran echo hi\n"}


async def test_run_needs_a_command_and_a_build(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "fresh"})
    r = await api.call("POST", "/v2/apps/fresh/run/", alice, json={})
    assert r.json == {"detail": "command is a required field"}
    r = await api.call("POST", "/v2/apps/fresh/run/", alice, json={"command": "ls"})
    assert r.json == {"detail": "No build associated with this release to run this command"}


async def test_app_log_holds_the_controller_actions(api: RunningController, alice: str) -> None:
    await image_app(api, alice)
    await api.call("POST", "/v2/apps/demo/scale/", alice, json={"web": 2})
    r = await api.call("GET", "/v2/apps/demo/logs/", alice)
    assert r.status == 200
    assert "deis[controller]: INFO alice created initial release" in r.text
    assert "deis[controller]: INFO alice scaled pods web=2" in r.text
    r = await api.call("GET", "/v2/apps/demo/logs/?log_lines=1", alice)
    assert r.text.count("\n") == 1


LAG = 0.5  # how long replaced processes linger after the deploy is healthy (router move, SIGTERM)


class LingeringScheduler:
    """Behaves like the scheduler on the bus: a deploy brings fresh processes up and reports them healthy;
    the processes it replaced keep running (``terminating``) for a moment after that, then go."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.processes: list[ProcessInfo] = []
        self.structure: dict[str, int] = {}
        self.template = "v2"
        self._tasks: set[asyncio.Task[None]] = set()

    def fresh(self, app: str, ptype: str) -> ProcessInfo:
        return ProcessInfo(name=process_name(app, ptype, self.template), type=ptype, release="v2", state="up")

    async def deploy(self, app: str, generation: int, replace: list[ProcessInfo]) -> None:
        keep = [p for p in self.processes if p not in replace and p.state != "terminating"]
        for ptype, count in self.structure.items():
            of_type = [p for p in keep if p.type == ptype]
            keep = [p for p in keep if p.type != ptype] + of_type[:count]
            keep += [self.fresh(app, ptype) for _ in range(count - len(of_type))]
        retire = [p for p in self.processes if p not in keep]
        self.processes = keep + [p.model_copy(update={"state": "terminating"}) for p in retire]
        await self.bus.publish(ContainersHealthy(app=app, generation=generation, version=2))
        task = asyncio.create_task(self._retire({p.name for p in retire}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retire(self, names: set[str]) -> None:
        await asyncio.sleep(LAG)
        self.processes = [p for p in self.processes if p.name not in names]

    async def on_event(self, event: ReleaseCreated | AppScaled | RestartRequested) -> None:
        if isinstance(event, RestartRequested):
            chosen = [
                p
                for p in self.processes
                if (event.type is None or p.type == event.type)
                and (event.process is None or p.name == event.process)
            ]
            await self.deploy(event.app, 0, chosen)
        else:
            structure = event.structure if isinstance(event, AppScaled) else event.state.structure
            self.structure = dict(structure)
            await self.deploy(event.app, event.generation, [])


@contextlib.asynccontextmanager
async def lingering_scheduler(bus: Bus) -> AsyncIterator[LingeringScheduler]:
    fake = LingeringScheduler(bus)

    async def ps(request: PsRequest) -> PsReply:
        return PsReply(app=request.app, processes=fake.processes)

    sub = await bus.serve(PS_SUBJECT, PsRequest, ps, queue="scheduler")
    try:
        async with reacting(bus, ReleaseCreated, AppScaled, RestartRequested, to=fake.on_event):
            yield fake
    finally:
        await sub.unsubscribe()


def names(pods: list[dict[str, str]]) -> set[str]:
    return {p["name"] for p in pods}


async def test_restart_answers_once_fresh_processes_with_new_names_replaced_the_old_ones(
    pg_dsn: str, nats_url: str, bus: Bus
) -> None:
    async with (
        lingering_scheduler(bus) as scheduler,
        running_controller(pg_dsn, nats_url, deploy_wait=20.0) as api,
    ):
        token = await api.register("alice")
        await image_app(api, token)
        assert (
            await api.call("POST", "/v2/apps/demo/scale/", token, json={"web": 2, "worker": 1})
        ).status == 204
        before = (await api.call("GET", "/v2/apps/demo/pods/", token)).json["results"]
        webs = {p["name"] for p in before if p["type"] == "web"}
        [worker] = [p["name"] for p in before if p["type"] == "worker"]

        # As the original CLI sends them: POST .../pods/<type>/restart/, then it lists the processes.
        r = await api.call("POST", "/v2/apps/demo/pods/web/restart/", token)
        assert r.status == 200, r.text
        assert len(r.json) == 2 and not names(r.json) & webs
        assert all(WORKFLOW_NAME.match(p["name"]) and p["state"] == "up" for p in r.json), r.json
        listed = (await api.call("GET", "/v2/apps/demo/pods/", token)).json
        assert names(listed["results"]) == names(r.json) | {worker}

        short = worker.removeprefix("demo-")
        r = await api.call("POST", f"/v2/apps/demo/pods/worker/{short}/restart/", token)
        assert r.status == 200 and len(r.json) == 1 and r.json[0]["name"] != worker
        assert r.json[0]["type"] == "worker"

        current = names((await api.call("GET", "/v2/apps/demo/pods/", token)).json["results"])
        r = await api.call("POST", "/v2/apps/demo/pods/restart/", token)
        assert len(r.json) == 3 and not names(r.json) & current
        assert names((await api.call("GET", "/v2/apps/demo/pods/", token)).json["results"]) == names(r.json)
        assert scheduler.processes and all(p.state == "up" for p in scheduler.processes)


async def test_scaling_to_zero_answers_once_the_processes_are_gone(
    pg_dsn: str, nats_url: str, bus: Bus
) -> None:
    async with lingering_scheduler(bus), running_controller(pg_dsn, nats_url, deploy_wait=20.0) as api:
        token = await api.register("alice")
        await api.call("POST", "/v2/apps/", token, json={"id": "boxed"})
        r = await api.call("POST", "/v2/apps/boxed/builds/", token, json={"image": "ex/img"})
        assert r.status == 201, r.text
        assert (await api.call("GET", "/v2/apps/boxed/pods/", token)).json["count"] == 1

        r = await api.call("POST", "/v2/apps/boxed/scale/", token, json={"cmd": 0})

        assert r.status == 204
        assert (await api.call("GET", "/v2/apps/boxed/pods/", token)).json == {"count": 0, "results": []}
