"""Each kind of app a user pushes is detected and built by the right buildpack."""

from __future__ import annotations

import base64
import io
import tarfile
from pathlib import Path
from typing import Any

from builder_harness import APPS, Accounts, SshKey, app_repo, buildpack_url
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


async def test_workflows_example_go_app_is_built_by_the_go_buildpack(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "example-go")
    repo = await app_repo("example-go", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("example-go")
    assert code == 0, output
    in_order(
        remote_lines(output),
        "-----> Go app detected",
        "-----> Using go1.",
        "-----> Building github.com/deis/example-go with godep",
        "-----> Installed the following binaries:",
        "bin/example-go",
        "Procfile declares types -> web",
        "Done, example-go:v2 deployed to Workflow",
    )
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "example-go")
    assert completed.artifact.procfile == {"web": "example-go"}
    members = await _slug_members(builder, completed)
    assert members["./bin/example-go"].startswith(b"\x7fELF")
    assert b"/app/bin" in members["./.profile.d/go.sh"]
    assert not any(name.startswith("./go-build") for name in members), "the build cache stays out"


async def test_a_ruby_app_is_refused_with_buildpack_url_and_the_release_stays(
    builder: RunningBuilder,
    accounts: Accounts,
    alice_key: SshKey,
    recorder: EventRecorder,
    controller: Any,
    tmp_path: Path,
) -> None:
    await accounts.app("alice", "polyglot")
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("polyglot")
    assert code == 0, output
    deployed = await repo.head()
    for name in ("Gemfile", "app.rb", "Procfile"):
        (repo.path / name).write_text((APPS / "ruby" / name).read_text())
    await repo.commit("rewrite it in Ruby")

    code, output = await repo.push("polyglot")
    assert code == 1, output
    lines = remote_lines(output)
    in_order(
        lines,
        "-----> Unable to select a buildpack",
        " !     No bundled buildpack builds Ruby apps (this app has Gemfile).",
        " !     Set BUILDPACK_URL to a buildpack for your language:",
        " !       deis config:set BUILDPACK_URL=<git url of a buildpack>[#ref]",
        "error: failed to push some refs",
    )
    assert not any("Procfile app detected" in line or "Done," in line for line in lines)
    failed = await recorder.wait_for(BuildFailed, where=lambda e: e.app == "polyglot")
    assert failed.reason.startswith("Unable to select a buildpack: no bundled buildpack builds Ruby apps")
    assert "BUILDPACK_URL" in failed.reason
    releases = await controller.call("GET", "/v2/apps/polyglot/releases/", accounts.tokens["alice"])
    assert releases.json["results"][0]["version"] == 2, "the running release is still the shell app's"
    code, refs = await repo.git("ls-remote", repo.remote("polyglot"))
    assert deployed in refs, "the branch still points at what runs"


async def test_a_procfile_app_that_runs_a_shell_script_still_needs_no_buildpack(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "scripted")
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("scripted")
    assert code == 0, output
    in_order(remote_lines(output), "-----> Procfile app detected", "Done, scripted:v2 deployed to Workflow")
