"""The whole first-deploy path a user takes with the CLI: register, add a key, `deis create` (which writes
the git remote), `git push deis`, then see the release. A real controller and a real builder (SSH, git,
sandboxed build) run in-process; a stand-in plays the scheduler and router, routing every release."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from conftest import git

from deis_builder.service import build
from deis_common.bus import Bus
from deis_common.testing.ports import free_port
from tests.builder.builder_harness import APPS, BUILDER_KEY, builder_settings, routing_stand_in


def keygen(path: Path, comment: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True
    )


@pytest_asyncio.fixture
async def controller(pg_dsn: str, nats_url: str, bus: Bus) -> AsyncIterator[Any]:
    from tests.controller.harness import running_controller

    async with routing_stand_in(bus), running_controller(pg_dsn, nats_url, builder_key=BUILDER_KEY) as ctl:
        yield ctl


@pytest_asyncio.fixture
async def builder_port(controller: Any, nats_url: str, tmp_path: Path) -> AsyncIterator[int]:
    settings = builder_settings(
        nats_url=nats_url,
        data_dir=tmp_path / "builder",
        store_dir=tmp_path / "store",
        controller_url=controller.url,
        ssh_port=free_port(),
    )
    async with build(settings).running():
        yield settings.ssh.port


async def test_a_user_deploys_with_deis_create_and_git_push(
    deis, admin, workspace, builder_port: int
) -> None:
    key = workspace.home / ".ssh" / "id_ed25519"
    keygen(key, "admin@laptop")
    assert (await deis("keys:add", input="1\n")).ok

    repo = workspace.cwd / "shellapp"
    shutil.copytree(APPS / "shell", repo)
    git(workspace, "init", "-q", cwd=repo)
    git(workspace, "add", ".", cwd=repo)
    git(workspace, "commit", "-qm", "first", cwd=repo)
    builder_url = f"ssh://git@127.0.0.1:{builder_port}"
    created = await deis("create", "shellapp", cwd=repo, env={"DEIS_BUILDER_URL": builder_url})
    assert created.ok, created
    assert git(workspace, "remote", "get-url", "deis", cwd=repo).strip() == f"{builder_url}/shellapp.git"

    ssh = f"ssh -i {key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
    push = await asyncio.create_subprocess_exec(
        "git",
        "push",
        "deis",
        "HEAD:refs/heads/master",
        cwd=repo,
        env={**workspace.env, "GIT_SSH_COMMAND": ssh, "GIT_TERMINAL_PROMPT": "0"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(push.communicate(), 600)
    assert push.returncode == 0, err.decode()
    assert "Done, shellapp:v2 deployed to Workflow" in err.decode()

    env = {"DEIS_BUILDER_URL": builder_url}
    releases = (await deis("releases", cwd=repo, env=env)).stdout.splitlines()
    sha = git(workspace, "rev-parse", "--short=7", "HEAD", cwd=repo).strip()
    assert releases[0] == "=== shellapp Releases"
    assert releases[1].startswith("v2") and releases[1].endswith(f"admin deployed {sha}")
    assert len((await deis("builds", cwd=repo, env=env)).stdout.splitlines()) == 2
