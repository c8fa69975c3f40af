"""Apps with a Dockerfile are built into an image the scheduler can run without Docker."""

from __future__ import annotations

import asyncio
import io
import tarfile
from pathlib import Path

from builder_harness import Accounts, SshKey, app_repo, run
from conftest import RunningBuilder
from test_push import in_order, remote_lines

from deis_common.events.builds import BuildCompleted, BuildFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.testing.recorder import EventRecorder


async def test_a_dockerfile_app_becomes_an_image_root_filesystem_and_config(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "dockerapp", GREETING="hi", DEIS_DOCKER_BUILD_ARGS_ENABLED="1")
    repo = await app_repo("dockerfile", tmp_path / "work", builder.ssh_port, alice_key)
    code, out = await run("gcc", "-static", "-Os", "-o", "server", "server.c", cwd=repo.path)
    assert code == 0, out
    sha = await repo.commit("a static server binary")
    code, output = await repo.push("dockerapp")
    assert code == 0, output
    in_order(
        remote_lines(output),
        "Starting build... but first, coffee!",
        "Step 1/9 : FROM scratch",
        "ARG GREETING",
        "COPY server /server",
        "Build complete.",
        "Done, dockerapp:v3 deployed to Workflow",
    )
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "dockerapp")
    artifact = completed.artifact
    assert (artifact.kind, artifact.location, artifact.sha) == (
        "dockerfile",
        f"dockerapp:git-{sha[:8]}",
        sha[:8],
    )
    assert artifact.procfile == {}
    assert artifact.image is not None
    assert artifact.image.cmd == ["/server"]
    assert artifact.image.exposed_ports == [5000]
    assert artifact.image.env["GREETING"] == "hi", "config reaches the build as build args"
    assert artifact.rootfs == f"home/dockerapp:git-{sha[:8]}/push/rootfs.tgz"
    rootfs = await builder.store.get("builder", artifact.rootfs)
    with tarfile.open(fileobj=io.BytesIO(rootfs)) as tar:
        server = tar.getmember("./server")
    assert server.isfile() and server.mode & 0o111
    created = await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == completed.build_id)
    assert created.state.build is not None and created.state.build.kind == "dockerfile"


async def test_a_broken_dockerfile_fails_the_push_with_the_reason(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "brokenimg")
    repo = await app_repo("dockerfile-broken", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("brokenimg")
    assert code == 1, output
    in_order(
        remote_lines(output),
        "Unknown instruction: BOGUS",
        "exited with code 1, stopping build",
        "error: failed to push some refs",
    )
    await recorder.wait_for(BuildFailed, where=lambda e: e.app == "brokenimg")
    assert not [e for e in recorder.of(ReleaseCreated) if e.app == "brokenimg" and e.build_id]


async def test_a_failing_run_step_fails_the_push(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path
) -> None:
    await accounts.app("alice", "failrun")
    repo = await app_repo("dockerfile-broken", tmp_path / "work", builder.ssh_port, alice_key)
    await asyncio.to_thread((repo.path / "Dockerfile").write_text, "FROM scratch\nCOPY missing-file /x\n")
    await repo.commit("copy something that is not there")
    code, output = await repo.push("failrun")
    assert code == 1, output
    in_order(
        remote_lines(output), "Step 2/2 : COPY missing-file /x", "Build exited with code", "error: failed"
    )
