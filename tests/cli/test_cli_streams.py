"""logs (and logs -f), events, platform:status and version --all, through the installed `deis`."""

from __future__ import annotations

import asyncio
import json
import re
from asyncio.subprocess import Process
from typing import Any

from conftest import DEIS, register

from deis_common.bus import Bus


async def test_logs_of_a_new_app_tell_its_creation_as_workflow_did(deis, admin) -> None:
    assert (await deis("create", "fresh", "--no-remote")).ok
    result = await deis("logs", "-a", "fresh")
    assert result.ok, result
    messages = [line.split(" ", 1)[1] for line in result.stdout.splitlines()]
    assert len(messages) == 4, result
    assert re.fullmatch(r"deis\[controller\]: INFO config fresh-[0-9a-f]{7} updated", messages[0])
    assert messages[1] == "deis[controller]: INFO admin created initial release"
    assert re.fullmatch(r"deis\[controller\]: INFO appsettings fresh-[0-9a-f]{7} updated", messages[2])
    assert messages[3] == "deis[controller]: INFO domain fresh added"


async def test_logs_prints_the_app_log_and_follow_prints_new_lines(deis, admin, bus: Bus, workspace) -> None:
    assert (await deis("create", "loggy", "--no-remote")).ok
    await bus.append_log("loggy", "2026-01-01T00:00:00+00:00 loggy[web.1]: first line")
    await bus.append_log("loggy", "2026-01-01T00:00:01+00:00 loggy[web.1]: second line")
    result = await deis("logs", "-a", "loggy")
    assert result.ok, result
    assert result.stdout.endswith(
        "2026-01-01T00:00:00+00:00 loggy[web.1]: first line\n"
        "2026-01-01T00:00:01+00:00 loggy[web.1]: second line\n"
    )
    assert "deis[controller]: INFO admin created initial release" in result.stdout
    assert (await deis("logs", "-a", "loggy", "-n", "1")).stdout == (
        "2026-01-01T00:00:01+00:00 loggy[web.1]: second line\n"
    )

    follower = await asyncio.create_subprocess_exec(
        DEIS,
        "logs",
        "-f",
        "-a",
        "loggy",
        "-n",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=workspace.cwd,
        env=workspace.env,
    )
    try:
        assert follower.stdout is not None
        first = await asyncio.wait_for(follower.stdout.readline(), 30)
        assert first.decode().endswith("second line\n")
        await bus.append_log("loggy", "2026-01-01T00:00:02+00:00 loggy[worker.1]: third line")
        third = await asyncio.wait_for(follower.stdout.readline(), 30)
        assert third.decode() == "2026-01-01T00:00:02+00:00 loggy[worker.1]: third line\n"
    finally:
        follower.terminate()
        await follower.wait()


async def test_logs_of_a_missing_app_is_an_error(deis, admin) -> None:
    result = await deis("logs", "-a", "ghost")
    assert result.returncode == 1
    assert result.stderr == "Error: 404 Not Found\nNo App matches the given query.\n"


async def watch_events(workspace: Any, *args: str, env: dict[str, str] | None = None) -> Process:
    """``deis events ...`` running in the background, once it said it is watching."""
    watcher = await asyncio.create_subprocess_exec(
        DEIS,
        "events",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=workspace.cwd,
        env={**workspace.env, **(env or {})},
    )
    assert watcher.stderr is not None and watcher.stdout is not None
    ready = await asyncio.wait_for(watcher.stderr.readline(), 30)
    assert ready.decode().startswith("Watching deis.v1.> on http://127.0.0.1:"), ready
    return watcher


async def stop(watcher: Process) -> None:
    if watcher.returncode is None:
        watcher.terminate()
        await watcher.wait()


async def test_events_streams_envelopes_as_json_lines(deis, admin, workspace) -> None:
    watcher = await watch_events(workspace, "--app", "evt", "--type", "apps.created", "-n", "1")
    try:
        assert watcher.stdout is not None
        assert (await deis("create", "other", "--no-remote")).ok
        assert (await deis("create", "evt", "--no-remote")).ok
        line = await asyncio.wait_for(watcher.stdout.readline(), 30)
        envelope = json.loads(line)
        assert envelope["type"] == "deis.v1.apps.created"
        assert envelope["subject"] == "evt" and envelope["data"]["app"] == "evt"
        assert await asyncio.wait_for(watcher.wait(), 30) == 0
    finally:
        await stop(watcher)


async def test_events_show_only_the_users_apps_and_no_config_values(
    deis, controller, admin, workspace
) -> None:
    alice = await register(deis, controller, "alice")
    assert (await deis("create", "admins", "--no-remote")).ok
    watcher = await watch_events(workspace, "--type", "releases.created", "-n", "2", env=alice)
    try:
        assert watcher.stdout is not None
        assert (await deis("config:set", "TOKEN=admins-secret", "-a", "admins")).ok
        assert (await deis("create", "alices", "--no-remote", env=alice)).ok
        assert (await deis("config:set", "TOKEN=alices-secret", "-a", "alices", env=alice)).ok
        lines = [await asyncio.wait_for(watcher.stdout.readline(), 30) for _ in range(2)]
        assert await asyncio.wait_for(watcher.wait(), 30) == 0
    finally:
        await stop(watcher)
    seen = [json.loads(line) for line in lines]
    assert [(e["subject"], e["data"]["version"]) for e in seen] == [("alices", 1), ("alices", 2)]
    assert seen[1]["data"]["state"]["env"] == {"TOKEN": "[redacted]"}
    assert b"secret" not in b"".join(lines)
    refused = await deis("events", "--app", "admins", env=alice)
    assert (refused.returncode, refused.stderr) == (
        1,
        "Error: You do not have permission to perform this action.\n",
    )


async def test_events_needs_a_login_and_a_reachable_controller(deis, admin, workspace) -> None:
    profile = workspace.profile_dir / "client.json"
    data = json.loads(profile.read_text())
    data["controller"] = "http://127.0.0.1:9"
    profile.write_text(json.dumps(data))
    unreachable = await deis("events")
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("Error: Could not reach the controller at http://127.0.0.1:9")
    profile.unlink()
    anonymous = await deis("events")
    assert anonymous.returncode == 1
    assert "Are you logged in?" in anonymous.stderr


async def test_platform_status_and_version_all_ask_the_controller(controller, deis, admin, workspace) -> None:
    status = await deis("platform:status")
    assert status.ok, status
    lines = status.stdout.splitlines()
    assert lines[0] == f"=== Platform {controller.url}"
    assert lines[1].startswith("/healthz:     ok (200")
    assert lines[2].startswith("/readiness:   ok (200")
    assert "API version:  2.3" in lines
    assert "User:         admin (token accepted)" in lines
    assert "Builder:      ssh://git@127.0.0.1:2222" in lines

    version = await deis("version", "--all")
    assert "Workflow CLI API Version:        2.3" in version.stdout
    assert "Workflow Controller API Version: 2.3" in version.stdout

    profile = workspace.profile_dir / "client.json"
    data = json.loads(profile.read_text())
    data["controller"] = "http://127.0.0.1:9"
    profile.write_text(json.dumps(data))
    down = await deis("platform")
    assert down.returncode == 1
    assert "/healthz:     FAILED" in down.stdout
    assert down.stderr == "Error: the platform at http://127.0.0.1:9 is not healthy\n"
