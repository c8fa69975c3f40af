"""Who may push, and how pushes to one app and to different apps interact."""

from __future__ import annotations

import asyncio
from pathlib import Path

from builder_harness import (
    Accounts,
    BuildLines,
    GitRepo,
    SshKey,
    app_repo,
    buildpack_url,
    make_key,
    open_gate,
)
from conftest import RunningBuilder
from test_push import in_order, remote_lines

from deis_common.events.builds import BuildCompleted
from deis_common.events.pushes import PushReceived
from deis_common.events.releases import ReleaseDeployed
from deis_common.testing.recorder import EventRecorder


async def _gated_app(accounts: Accounts, app: str, tmp_path: Path) -> None:
    url = await buildpack_url("buildpack-gated", tmp_path / f"buildpacks-{app}")
    await accounts.app("alice", app, BUILDPACK_URL=url)


async def test_a_second_push_to_an_app_is_refused_while_the_first_builds(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, build_lines: BuildLines, tmp_path: Path
) -> None:
    await _gated_app(accounts, "busy", tmp_path)
    first = await app_repo("plain", tmp_path / "one", builder.ssh_port, alice_key)
    second = await app_repo("shell", tmp_path / "two", builder.ssh_port, alice_key)
    first_push = asyncio.create_task(first.push("busy"))
    (build_id,) = await build_lines.wait_for("waiting for the gate")

    code, output = await second.push("busy")
    assert code == 128, output
    assert "fatal: remote error: Another git push is ongoing" in output
    assert 'deis_builder_pushes_total{outcome="locked"} 1.0' in await builder.metrics()

    open_gate(builder.settings.builder.data_dir, build_id)
    code, output = await first_push
    assert code == 0, output
    assert "Done, busy:v3 deployed to Workflow" in output


async def test_pushes_to_two_apps_build_at_the_same_time(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, build_lines: BuildLines, tmp_path: Path
) -> None:
    await _gated_app(accounts, "left", tmp_path)
    await _gated_app(accounts, "right", tmp_path)
    left = await app_repo("plain", tmp_path / "left", builder.ssh_port, alice_key)
    right = await app_repo("plain", tmp_path / "right", builder.ssh_port, alice_key)
    pushes = [asyncio.create_task(left.push("left")), asyncio.create_task(right.push("right"))]
    both = await build_lines.wait_for("waiting for the gate", builds=2)
    for build_id in both:
        open_gate(builder.settings.builder.data_dir, build_id)
    (left_code, left_out), (right_code, right_out) = await asyncio.gather(*pushes)
    assert left_code == 0, left_out
    assert right_code == 0, right_out
    assert "Done, left:v3 deployed to Workflow" in left_out
    assert "Done, right:v3 deployed to Workflow" in right_out


async def test_a_build_goes_on_when_the_pusher_disconnects(
    builder: RunningBuilder,
    accounts: Accounts,
    alice_key: SshKey,
    build_lines: BuildLines,
    recorder: EventRecorder,
    tmp_path: Path,
) -> None:
    await _gated_app(accounts, "detached", tmp_path)
    repo = await app_repo("plain", tmp_path / "work", builder.ssh_port, alice_key)
    process = await asyncio.create_subprocess_exec(
        "git",
        "push",
        repo.remote("detached"),
        "HEAD:refs/heads/master",
        cwd=repo.path,
        env=repo.env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    (build_id,) = await build_lines.wait_for("waiting for the gate")
    process.kill()  # Ctrl-C: git and its ssh go away
    await process.wait()
    open_gate(builder.settings.builder.data_dir, build_id)
    await recorder.wait_for(ReleaseDeployed, where=lambda e: e.app == "detached", timeout=60)

    code, output = await _push_when_unlocked(repo, "detached")
    assert code == 0, output
    assert "Everything up-to-date" in output


async def _push_when_unlocked(repo: GitRepo, app: str) -> tuple[int, str]:
    """The refs are updated (and the lock freed) right after the deploy, while git may still be exiting:
    a refused push is retried (each try is a full SSH round trip)."""
    for _ in range(50):
        code, output = await repo.push(app)
        if "Another git push is ongoing" not in output:
            return code, output
    raise AssertionError("the push lock was never released")


async def test_a_key_the_controller_does_not_know_is_refused(
    builder: RunningBuilder, accounts: Accounts, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "private")
    stranger = await make_key(tmp_path / "keys" / "stranger")
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, stranger)
    code, output = await repo.push("private")
    assert code != 0, output
    assert "Permission denied (publickey)" in output
    assert not recorder.of(PushReceived)


async def test_a_key_without_access_to_the_app_is_refused(
    builder: RunningBuilder, accounts: Accounts, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "alices")
    bob_key = await make_key(tmp_path / "keys" / "bob")
    await accounts.user("bob", bob_key)
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, bob_key)
    code, output = await repo.push("alices")
    assert code == 1, output
    in_order(
        remote_lines(output), "Access denied: bob may not push to alices", "error: failed to push some refs"
    )
    assert not recorder.of(PushReceived)


async def test_a_push_to_an_app_that_does_not_exist_is_refused(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path
) -> None:
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("nosuchapp")
    assert code == 128, output
    assert "App nosuchapp does not exist" in output


async def test_any_branch_builds_and_collaborators_can_push(
    builder: RunningBuilder, accounts: Accounts, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "shared")
    carol_key = await make_key(tmp_path / "keys" / "carol")
    await accounts.user("carol", carol_key)
    r = await accounts.api.call(
        "POST", "/v2/apps/shared/perms/", accounts.tokens["alice"], json={"username": "carol"}
    )
    assert r.status == 201, r.text
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, carol_key)
    code, output = await repo.push("shared", "HEAD:refs/heads/feature")
    assert code == 0, output
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "shared")
    pushed = recorder.of(PushReceived)[0]
    assert (pushed.user, pushed.ref, completed.user) == ("carol", "refs/heads/feature", "carol")
