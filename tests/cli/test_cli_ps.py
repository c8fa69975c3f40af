"""ps and run, driven through the installed `deis` against a real controller.

A small stand-in answers the scheduler's side of the bus (process lists and one-off runs), so these
tests exercise the CLI and the controller for real without starting app processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio

from deis_common.bus import Bus
from deis_common.events.apps import RestartRequested, RunRequested
from deis_common.events.runs import RunFinished
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import ProcessInfo
from deis_common.testing.reacting import reacting


@dataclass
class Scheduler:
    """Answers ``ps`` from ``processes`` and finishes every run with ``exit_code`` / ``output``."""

    processes: dict[str, list[ProcessInfo]] = field(default_factory=dict)
    upcoming: dict[str, list[list[ProcessInfo]]] = field(default_factory=dict)
    exit_code: int = 0
    output: str = ""
    restarts: list[RestartRequested] = field(default_factory=list)


@pytest_asyncio.fixture
async def scheduler(bus: Bus) -> AsyncIterator[Scheduler]:
    fake = Scheduler()

    async def ps(request: PsRequest) -> PsReply:
        if fake.upcoming.get(request.app):
            fake.processes[request.app] = fake.upcoming[request.app].pop(0)
        return PsReply(app=request.app, processes=fake.processes.get(request.app, []))

    async def runs(asked: RunRequested | RestartRequested) -> None:
        if isinstance(asked, RunRequested):
            await bus.publish(
                RunFinished(app=asked.app, run_id=asked.run_id, exit_code=fake.exit_code, output=fake.output)
            )
        else:
            fake.restarts.append(asked)
            fake.processes[asked.app] = [replaced(p, asked) for p in fake.processes.get(asked.app, [])]

    sub = await bus.serve(PS_SUBJECT, PsRequest, ps, queue="scheduler")
    async with reacting(bus, RunRequested, RestartRequested, to=runs):
        yield fake
    await sub.unsubscribe()


def replaced(info: ProcessInfo, asked: RestartRequested) -> ProcessInfo:
    """What a restart does to a process: a fresh one with a new name takes its place."""
    if (asked.type is None or info.type == asked.type) and (
        asked.process is None or info.name == asked.process
    ):
        return info.model_copy(update={"name": info.name[:-5] + "new" + info.name[-2:]})
    return info


def process(app: str, ptype: str, n: int, release: str = "v2", state: str = "up") -> ProcessInfo:
    return ProcessInfo(name=f"{app}-{ptype}-12345678{n}-abcd{n}", type=ptype, release=release, state=state)


async def deployed(deis, name: str) -> None:
    assert (await deis("create", name, "--no-remote")).ok
    assert (await deis("pull", "example/app:v1", "-a", name, "-p", "web: ./web\nworker: ./work")).ok


async def test_ps_lists_processes_grouped_by_type(deis, admin, scheduler) -> None:
    await deployed(deis, "busy")
    scheduler.processes["busy"] = [
        process("busy", "worker", 1),
        process("busy", "web", 2),
        process("busy", "web", 1, state="starting"),
    ]
    result = await deis("ps", "-a", "busy")
    assert result.stdout == (
        "=== busy Processes\n"
        "--- web:\n"
        "busy-web-123456781-abcd1 starting (v2)\n"
        "busy-web-123456782-abcd2 up (v2)\n"
        "--- worker:\n"
        "busy-worker-123456781-abcd1 up (v2)\n"
    ), result


async def test_scale_prints_the_process_list_and_refuses_bad_targets(deis, admin, scheduler) -> None:
    await deployed(deis, "scaly")
    scheduler.processes["scaly"] = [process("scaly", "web", 1), process("scaly", "web", 2)]
    result = await deis("scale", "web=2", "-a", "scaly", env={"DEIS_DRINK_OF_CHOICE": "tea"})
    assert result.ok, result
    lines = result.stdout.splitlines()
    assert lines[0] == "Scaling processes... but first, tea!"
    assert lines[1].startswith("done in ") and lines[1].endswith("s")
    assert lines[2:] == [
        "=== scaly Processes",
        "--- web:",
        "scaly-web-123456781-abcd1 up (v2)",
        "scaly-web-123456782-abcd2 up (v2)",
    ]

    malformed = await deis("ps:scale", "web=two", "-a", "scaly")
    assert malformed.returncode == 1
    assert malformed.stderr == "Error: 'web=two' does not match the pattern 'type=num', ex: web=2\n"
    unknown = await deis("ps:scale", "db=1", "-a", "scaly")
    assert unknown.returncode == 1
    assert "Container type db does not exist in application" in unknown.stderr


async def test_scale_before_any_build_is_refused(deis, admin) -> None:
    assert (await deis("create", "empty", "--no-remote")).ok
    result = await deis("scale", "web=1", "-a", "empty")
    assert result.returncode == 1
    assert "No build associated with this release" in result.stderr


async def test_restart_waits_for_fresh_processes_by_type_or_pod_name(deis, admin, scheduler) -> None:
    await deployed(deis, "bouncy")
    scheduler.processes["bouncy"] = [process("bouncy", "web", 1), process("bouncy", "worker", 2)]
    result = await deis("ps:restart", "web", "-a", "bouncy")
    assert result.ok, result
    assert result.stdout.startswith("Restarting processes... but first, coffee!\ndone in ")
    assert result.stdout.endswith(
        "=== bouncy Processes\n--- web:\nbouncy-web-123456781-newd1 up (v2)\n"
        "--- worker:\nbouncy-worker-123456782-abcd2 up (v2)\n"
    )
    one = await deis("ps:restart", "worker-123456782-abcd2", "-a", "bouncy")
    assert one.ok, one
    assert "bouncy-worker-123456782-newd2 up (v2)" in one.stdout
    assert [(r.type, r.process) for r in scheduler.restarts] == [
        ("web", None),
        ("worker", "bouncy-worker-123456782-abcd2"),
    ]
    nothing = await deis("ps:restart", "clock", "-a", "bouncy")
    assert nothing.stdout.endswith("Could not find any processes to restart\n")


async def test_run_prints_the_output_and_exits_with_the_remote_code(deis, admin, scheduler) -> None:
    await deployed(deis, "runner")
    scheduler.output = "hello from the app\n"
    ok = await deis("run", "-a", "runner", "echo", "hello")
    assert ok.returncode == 0
    assert ok.stdout == "Running 'echo hello'...\nhello from the app\n"

    scheduler.exit_code, scheduler.output = 3, "it broke\n"
    failed = await deis("run", "-a", "runner", "--", "false", "--really")
    assert failed.returncode == 3
    assert failed.stdout == "Running 'false --really'...\n"
    assert failed.stderr == "it broke\n"


async def test_scale_waits_until_the_processes_are_up(deis, admin, scheduler) -> None:
    await deployed(deis, "grow")
    one = process("grow", "web", 1)
    scheduler.processes["grow"] = [one]
    scheduler.upcoming["grow"] = [
        [one],
        [one, process("grow", "web", 2, state="starting")],
        [one, process("grow", "web", 2)],
    ]
    result = await deis("scale", "web=2", "-a", "grow")
    assert result.ok, result
    assert result.stdout.endswith(
        "=== grow Processes\n--- web:\ngrow-web-123456781-abcd1 up (v2)\ngrow-web-123456782-abcd2 up (v2)\n"
    )
    assert scheduler.upcoming["grow"] == []
