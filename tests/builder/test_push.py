"""A git push over SSH becomes a stored artifact, with the build streamed back to the pusher."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import yaml
from builder_harness import Accounts, SshKey, app_repo
from conftest import RunningBuilder

from deis_common.events.builds import BuildCompleted, BuildStarted
from deis_common.events.pushes import PushReceived
from deis_common.testing.recorder import EventRecorder


def remote_lines(output: str) -> list[str]:
    return [line.replace("\x1b[1G", "").removeprefix("remote: ").rstrip() for line in output.splitlines()]


def in_order(lines: list[str], *expected: str) -> None:
    position = 0
    for want in expected:
        for index in range(position, len(lines)):
            if want in lines[index]:
                position = index + 1
                break
        else:
            raise AssertionError(f"{want!r} not found in order in:\n" + "\n".join(lines))


async def test_python_app_push_builds_a_slug_and_reports_the_deploy(
    builder: RunningBuilder,
    accounts: Accounts,
    alice_key: SshKey,
    recorder: EventRecorder,
    tmp_path: Path,
) -> None:
    await accounts.app("alice", "pyapp")
    repo = await app_repo("python-flask", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("pyapp")
    assert code == 0, output
    sha = await repo.head()
    in_order(
        remote_lines(output),
        "Starting build... but first, coffee!",
        "-----> Restoring cache...",
        "No cache file found. If this is the first deploy, it will be created now.",
        "-----> Python app detected",
        "-----> Installing requirements with pip",
        "-----> Discovering process types",
        "Procfile declares types -> web",
        "-----> Compiled slug size is",
        "Build complete.",
        "Launching App...",
        "Done, pyapp:v2 deployed to Workflow",
        "Use 'deis open' to view this application in your browser",
        "To learn more, use 'deis help' or visit https://deis.com/",
        "[new branch]      HEAD -> master",
    )
    pushed = recorder.of(PushReceived)[0]
    assert (pushed.app, pushed.user, pushed.sha) == ("pyapp", "alice", sha)
    assert pushed.source_key == f"home/pyapp:git-{sha[:8]}/tar"
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "pyapp")
    assert completed.artifact.kind == "buildpack"
    assert completed.artifact.location == f"home/pyapp:git-{sha[:8]}/push/slug.tgz"
    assert completed.artifact.sha == sha[:8]
    assert completed.artifact.procfile == {"web": "python app.py"}
    procfile = await builder.store.get("builder", f"home/pyapp:git-{sha[:8]}/push/Procfile")
    assert yaml.safe_load(procfile) == {"web": "python app.py"}
    slug = await builder.store.get("builder", completed.artifact.location)
    with tarfile.open(fileobj=io.BytesIO(slug)) as tar:
        members = set(tar.getnames())
    assert "./app.py" in members
    assert any(name.startswith("./.venv/lib/python3") and "/flask/" in name for name in members)
    assert "./.profile.d/python.sh" in members
    assert "./tests/check_app.py" not in members and "./NOTES.md" not in members, ".slugignore is honoured"
    assert await builder.store.exists("builder", "home/pyapp/cache/cache.tgz")

    (repo.path / "app.py").write_text(
        (repo.path / "app.py").read_text().replace("Flask\\n", "Flask, again\\n")
    )
    await repo.commit("a code change only")
    code, output = await repo.push("pyapp")
    assert code == 0, output
    in_order(
        remote_lines(output),
        "-----> Restoring cache...",
        "       Done!",
        "-----> Dependencies unchanged, reusing the cached virtualenv",
        "-----> Cache unchanged, not updating",
        "Done, pyapp:v3 deployed to Workflow",
    )
    assert "Installing requirements" not in output


async def test_disabling_the_cache_drops_it_and_reinstalls(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path
) -> None:
    await accounts.app("alice", "nocache")
    repo = await app_repo("node", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("nocache")
    assert code == 0, output
    assert await builder.store.exists("builder", "home/nocache/cache/cache.tgz")
    await accounts.config("alice", "nocache", DEIS_DISABLE_CACHE="1")
    await repo.commit("build again")
    code, output = await repo.push("nocache")
    assert code == 0, output
    assert "Restoring cache" not in output
    assert "-----> Installing dependencies with npm install" in output
    assert not await builder.store.exists("builder", "home/nocache/cache/cache.tgz")


async def test_a_procfile_only_shell_app_is_built_as_it_is(
    builder: RunningBuilder,
    accounts: Accounts,
    alice_key: SshKey,
    recorder: EventRecorder,
    tmp_path: Path,
) -> None:
    await accounts.app("alice", "shellapp")
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("shellapp")
    assert code == 0, output
    in_order(
        remote_lines(output),
        "-----> Procfile app detected",
        "Procfile declares types -> web, worker",
        "Build complete.",
        "Done, shellapp:v2 deployed to Workflow",
    )
    started = await recorder.wait_for(BuildStarted, where=lambda e: e.app == "shellapp")
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "shellapp")
    assert started.build_id == completed.build_id
    assert set(completed.artifact.procfile) == {"web", "worker"}
