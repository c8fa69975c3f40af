"""A quiet build still shows signs of life: ``...`` lines while the pusher waits."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from builder_harness import Accounts, BuildLines, SshKey, app_repo, buildpack_url, open_gate
from conftest import RunningBuilder


@pytest.fixture
def builder_options() -> dict[str, Any]:
    return {"keepalive_interval": 0.2}


async def test_a_silent_build_prints_dots_until_it_speaks_again(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, build_lines: BuildLines, tmp_path: Path
) -> None:
    url = await buildpack_url("buildpack-gated", tmp_path / "buildpacks")
    await accounts.app("alice", "quiet", BUILDPACK_URL=url)
    repo = await app_repo("plain", tmp_path / "work", builder.ssh_port, alice_key)
    push = await asyncio.create_subprocess_exec(
        "git", "push", "--progress", repo.remote("quiet"), "HEAD:refs/heads/master",
        cwd=repo.path, env=repo.env(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert push.stderr is not None
    (build_id,) = await build_lines.wait_for("waiting for the gate")
    seen: list[str] = []
    while True:
        line = (await asyncio.wait_for(push.stderr.readline(), 30)).decode(errors="replace")
        assert line, "the push ended before printing a keep-alive line"
        seen.append(line)
        if line.replace("\x1b[1G", "").strip() == "remote: ...":
            break
    open_gate(builder.settings.builder.data_dir, build_id)
    rest = (await push.stderr.read()).decode(errors="replace")
    assert await push.wait() == 0, "".join(seen) + rest
    assert "Done, quiet:v3 deployed to Workflow" in rest
