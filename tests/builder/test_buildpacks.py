"""Each kind of app a user pushes is detected and built by the right buildpack."""

from __future__ import annotations

import base64
import io
import tarfile
from pathlib import Path

from builder_harness import Accounts, SshKey, app_repo, buildpack_url
from conftest import RunningBuilder
from test_push import in_order, remote_lines

from deis_common.events.builds import BuildCompleted, BuildFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.testing.recorder import EventRecorder


async def _slug_members(builder: RunningBuilder, completed: BuildCompleted) -> dict[str, bytes]:
    slug = await builder.store.get("builder", completed.artifact.location)
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(slug)) as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member) if member.isfile() else None
            out[member.name] = data.read() if data is not None else b""
    return out


async def test_a_nodejs_app_gets_its_modules_and_npm_start_as_web(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "nodeapp")
    repo = await app_repo("node", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("nodeapp")
    assert code == 0, output
    in_order(
        remote_lines(output),
        "-----> Node.js app detected",
        "Using node v",
        "Installing dependencies with npm install",
        "Default process types for Node.js -> web",
        "Done, nodeapp:v2 deployed to Workflow",
    )
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "nodeapp")
    assert completed.artifact.procfile == {"web": "npm start"}
    members = await _slug_members(builder, completed)
    assert "./server.js" in members and "./.profile.d/nodejs.sh" in members


async def test_a_static_site_is_served_by_a_small_web_server(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "site")
    repo = await app_repo("static", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("site")
    assert code == 0, output
    in_order(remote_lines(output), "-----> Static app detected", "Done, site:v2 deployed to Workflow")
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "site")
    assert completed.artifact.procfile == {"web": "/usr/bin/python3 -m http.server $PORT --directory /app"}


async def test_a_custom_buildpack_from_a_git_url_builds_the_app_with_its_config(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    url = await buildpack_url("buildpack-custom", tmp_path / "buildpacks", ref="v1")
    key = base64.b64encode(b"-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n").decode()
    await accounts.app("alice", "custom", BUILDPACK_URL=url, GREETING="hello from config", SSH_KEY=key)
    repo = await app_repo("plain", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("custom")
    assert code == 0, output
    in_order(
        remote_lines(output),
        "-----> Fetching custom buildpack",
        "-----> Custom app detected",
        "-----> Custom buildpack compiling",
        "      greeting from config: hello from config",
        "      git over ssh uses the key: -----BEGIN OPENSSH PRIVATE KEY-----",
        "      root-only host files: refused",
        "Default process types for Custom -> web",
        "Done, custom:v3 deployed to Workflow",
    )
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "custom")
    members = await _slug_members(builder, completed)
    assert b"a plain file the custom buildpack" in members["./site/index.html"]
    assert members["./site/greeting.txt"] == b"hello from config"
    assert not any(b"not a real key" in data for data in members.values()), (
        "the SSH key stays out of the slug"
    )


async def test_a_failing_buildpack_fails_the_push_and_releases_nothing(
    builder: RunningBuilder,
    accounts: Accounts,
    alice_key: SshKey,
    recorder: EventRecorder,
    controller: object,
    tmp_path: Path,
) -> None:
    url = await buildpack_url("buildpack-failing", tmp_path / "buildpacks")
    await accounts.app("alice", "doomed", BUILDPACK_URL=url)
    repo = await app_repo("plain", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("doomed")
    assert code == 1, output
    lines = remote_lines(output)
    in_order(
        lines,
        "-----> Fetching custom buildpack",
        "-----> Compiling the doomed app",
        "something went badly wrong",
        "Build exited with code 1, stopping build.",
        "[remote rejected] HEAD -> master (pre-receive hook declined)",
        "error: failed to push some refs",
    )
    assert not any("Done," in line for line in lines)
    failed = await recorder.wait_for(BuildFailed, where=lambda e: e.app == "doomed")
    assert "something went badly wrong" in "\n".join(failed.log_tail)
    assert not [e for e in recorder.of(ReleaseCreated) if e.app == "doomed" and e.build_id]
    code, refs = await repo.git("ls-remote", repo.remote("doomed"))
    assert (code, refs.strip()) == (0, ""), "the refs stay as they were"


async def test_a_runtime_the_node_does_not_have_is_a_clear_error(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path
) -> None:
    await accounts.app("alice", "oldpy")
    repo = await app_repo("python-flask", tmp_path / "work", builder.ssh_port, alice_key)
    (repo.path / "runtime.txt").write_text("python-2.7.18\n")
    await repo.commit("ask for an interpreter this node lacks")
    code, output = await repo.push("oldpy")
    assert code == 1, output
    in_order(
        remote_lines(output),
        "Requested runtime python-2.7.18 is not available on this node (available: python-3.11",
        "Build exited with code 1, stopping build.",
        "error: failed to push some refs",
    )


async def test_a_pyproject_app_is_installed_with_its_interpreter_from_runtime_txt(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "packaged")
    repo = await app_repo("python-pyproject", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("packaged")
    assert code == 0, output
    in_order(
        remote_lines(output),
        "-----> Python app detected",
        "-----> Using python-3.11.",
        "-----> Installing the project and its dependencies with pip",
        "Successfully installed",
        "Done, packaged:v2 deployed to Workflow",
    )
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "packaged")
    members = await _slug_members(builder, completed)
    assert any("/site-packages/flask/" in name for name in members)
    assert any(name.endswith(".pth") and b"/app/src" in data for name, data in members.items()), (
        members.keys()
    )
