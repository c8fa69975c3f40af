"""git:remote / git:remove, the builder URL rules, and plugins as `deis-<group>` on PATH."""

from __future__ import annotations

import os
import stat

import pytest
from conftest import git

from deis_cli import gitremote


@pytest.mark.parametrize(
    ("controller", "expected"),
    [
        ("http://deis.example.com", "ssh://git@deis-builder.example.com:2222/app.git"),
        ("https://deis.example.com:8443", "ssh://git@deis-builder.example.com:2222/app.git"),
        ("http://controller", "ssh://git@controller-builder:2222/app.git"),
        ("http://127.0.0.1:8000", "ssh://git@127.0.0.1:2222/app.git"),
        ("http://localhost:8000", "ssh://git@127.0.0.1:2222/app.git"),
        ("http://deis.localhost:8080", "ssh://git@127.0.0.1:2222/app.git"),
        ("http://10.1.2.3:8000", "ssh://git@10.1.2.3:2222/app.git"),
    ],
)
def test_the_builder_url_follows_the_controller_host(monkeypatch, controller: str, expected: str) -> None:
    monkeypatch.delenv("DEIS_BUILDER_URL", raising=False)
    assert gitremote.remote_url(controller, "app") == expected


def test_the_builder_url_uses_what_the_controller_advertises_or_the_override(monkeypatch) -> None:
    monkeypatch.delenv("DEIS_BUILDER_URL", raising=False)
    assert gitremote.remote_url("http://127.0.0.1:8000", "app", "ssh://git@127.0.0.1:2022") == (
        "ssh://git@127.0.0.1:2022/app.git"
    )
    monkeypatch.setenv("DEIS_BUILDER_URL", "ssh://git@gateway:22/repos/{app}")
    assert gitremote.remote_url("http://deis.example.com", "app") == "ssh://git@gateway:22/repos/app"


async def test_git_remote_adds_replaces_and_removes_the_apps_remote(deis, admin, workspace) -> None:
    git(workspace, "init", "-q")
    assert (await deis("create", "gitty", "--no-remote")).ok
    added = await deis("git:remote", "-a", "gitty")
    assert added.stdout == "Git remote deis successfully created for app gitty.\n", added
    again = await deis("git:remote", "-a", "gitty")
    assert again.stdout == "Remote deis already exists and is correctly configured for app gitty.\n"

    git(workspace, "remote", "set-url", "deis", "https://example.com/elsewhere.git")
    clash = await deis("git:remote", "-a", "gitty")
    assert clash.returncode == 1
    assert clash.stderr.startswith(
        "Error: Remote deis already exists, please run 'deis git:remote -f' to overwrite"
    )
    assert (await deis("git:remote", "-a", "gitty", "--force")).ok
    assert (await deis("git:remote", "-a", "gitty", "-r", "second")).ok
    assert git(workspace, "remote", "get-url", "deis").strip() == "ssh://git@127.0.0.1:2222/gitty.git"

    removed = await deis("git:remove", "-a", "gitty")
    assert removed.stdout == "Git remote deis removed\nGit remote second removed\n", removed
    none_left = await deis("git:remove", "-a", "gitty")
    assert none_left.returncode == 1 and none_left.stderr == "Error: No git remotes for app gitty exist\n"

    taken = await deis("create", "clash")
    assert taken.ok
    git(workspace, "remote", "set-url", "deis", "https://example.com/other.git")
    refused = await deis("create", "clash2")
    assert refused.returncode == 1
    assert "A git remote with the name deis already exists. To overwrite this remote run:" in refused.stderr


async def test_unknown_commands_run_a_plugin_from_path(deis, workspace) -> None:
    bin_dir = workspace.home / "bin"
    bin_dir.mkdir()
    plugin = bin_dir / "deis-hello"
    plugin.write_text('#!/bin/sh\necho "plugin got: $*"\nexit 7\n')
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    path = f"{bin_dir}{os.pathsep}{workspace.env['PATH']}"
    result = await deis("hello:world", "--flag", "x", env={"PATH": path})
    assert result.returncode == 7
    assert result.stdout == "plugin got: world --flag x\n"
    bare = await deis("-c", "someone", "hello", env={"PATH": path})
    assert bare.stdout == "plugin got: \n"

    unknown = await deis("nothing:here")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("Error: Found no matching command, try 'deis help'")
