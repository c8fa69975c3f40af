"""Scaling, ps, restart and one-off runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from deis_common.bus import Bus
from deis_common.events.apps import AppScaled, RestartRequested, RunRequested
from deis_common.events.runs import RunFinished
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import ProcessInfo
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import RunningController

PROCFILE = {"web": "python app.py", "worker": "python worker.py"}


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


@contextlib.asynccontextmanager
async def fake_runner(bus: Bus) -> AsyncIterator[None]:
    async def answer(queue: asyncio.Queue) -> None:  # type: ignore[type-arg]
        while True:
            request = (await queue.get()).open(RunRequested)
            await bus.publish(
                RunFinished(
                    app=request.app, run_id=request.run_id, exit_code=3, output=f"ran {request.command}\n"
                )
            )

    async with bus.watch(RunRequested) as queue:
        task = asyncio.create_task(answer(queue))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


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
