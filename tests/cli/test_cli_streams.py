"""logs (and logs -f), events, platform:status and version --all, through the installed `deis`."""

from __future__ import annotations

import asyncio
import json

from conftest import DEIS

from deis_common.bus import Bus


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


async def test_events_streams_envelopes_as_json_lines(deis, admin, nats_url: str, workspace) -> None:
    watcher = await asyncio.create_subprocess_exec(
        DEIS,
        "events",
        "--app",
        "evt",
        "--type",
        "apps.created",
        "-n",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=workspace.cwd,
        env={**workspace.env, "DEIS_NATS_URL": nats_url},
    )
    try:
        assert watcher.stderr is not None and watcher.stdout is not None
        ready = await asyncio.wait_for(watcher.stderr.readline(), 30)
        assert ready.decode().startswith("Watching deis.v1.> on ")
        assert (await deis("create", "other", "--no-remote")).ok
        assert (await deis("create", "evt", "--no-remote")).ok
        line = await asyncio.wait_for(watcher.stdout.readline(), 30)
        envelope = json.loads(line)
        assert envelope["type"] == "deis.v1.apps.created"
        assert envelope["subject"] == "evt" and envelope["data"]["app"] == "evt"
        assert await asyncio.wait_for(watcher.wait(), 30) == 0
    finally:
        if watcher.returncode is None:
            watcher.terminate()
            await watcher.wait()


async def test_events_needs_a_nats_url(deis) -> None:
    result = await deis("events")
    assert result.returncode == 1
    assert result.stderr == "Error: No NATS URL: pass --nats nats://host:4222 or set DEIS_NATS_URL\n"
    unreachable = await deis("events", "--nats", "nats://127.0.0.1:9")
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("Error: Could not connect to NATS at nats://127.0.0.1:9")


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
