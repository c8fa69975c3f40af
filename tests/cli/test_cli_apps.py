"""apps, git remotes and app detection, driven through the installed `deis` against a real controller."""

from __future__ import annotations

from conftest import git, register


async def test_create_adds_a_deis_remote_pointing_at_the_builder(deis, admin, workspace) -> None:
    git(workspace, "init", "-q")
    result = await deis("create", "demo")
    assert result.ok, result
    assert (
        result.stdout
        == "Creating Application... done, created demo\nGit remote deis successfully created for app demo.\n"
    )
    assert git(workspace, "remote", "get-url", "deis").strip() == "ssh://git@127.0.0.1:2222/demo.git"

    again = await deis("apps:create", "demo")
    assert again.returncode == 1
    assert again.stderr.startswith("Error: 400 Bad Request\nid: ")


async def test_the_builder_url_can_be_overridden(deis, admin, workspace) -> None:
    git(workspace, "init", "-q")
    env = {"DEIS_BUILDER_URL": "ssh://git@builder.example.test:2200"}
    assert (await deis("create", "other", "--remote=platform", env=env)).ok
    assert (
        git(workspace, "remote", "get-url", "platform").strip()
        == "ssh://git@builder.example.test:2200/other.git"
    )


async def test_create_without_a_name_picks_one_and_no_remote_explains_how_to_add_it(deis, admin) -> None:
    result = await deis("create", "--no-remote")
    assert result.ok, result
    first, second = result.stdout.splitlines()
    assert first.startswith("Creating Application... done, created ")
    name = first.rsplit(" ", 1)[1]
    assert second == f"If you want to add a git remote for this app later, use `deis git:remote -a {name}`"


async def test_apps_list_pages_with_limit(deis, admin) -> None:
    for name in ("alpha", "beta", "gamma"):
        assert (await deis("create", name, "--no-remote")).ok
    assert (await deis("apps")).stdout == "=== Apps\nalpha\nbeta\ngamma\n"
    assert (await deis("apps:list", "--limit=2")).stdout == "=== Apps (2 of 3)\nalpha\nbeta\n"


async def test_commands_find_the_app_from_the_git_remote(deis, admin, workspace) -> None:
    git(workspace, "init", "-q")
    assert (await deis("create", "detected")).ok
    result = await deis("info")
    assert result.ok, result
    lines = result.stdout.splitlines()
    assert lines[0] == "=== detected Application"
    assert "owner:    admin" in lines and "id:       detected" in lines
    assert any(line.startswith("url:      detected.") for line in lines)

    elsewhere = workspace.cwd.parent / "Some-Project"
    elsewhere.mkdir()
    missing = await deis("info", cwd=elsewhere)
    assert missing.returncode == 1
    assert missing.stderr == "Error: 404 Not Found\nNo App matches the given query.\n"


async def test_destroy_needs_confirmation_and_removes_the_remote(deis, admin, workspace) -> None:
    git(workspace, "init", "-q")
    assert (await deis("create", "doomed")).ok
    refused = await deis("destroy", input="nope\n")
    assert refused.returncode == 1
    assert "This command will destroy the application: doomed" in refused.stdout
    assert refused.stderr == "Error: App doomed does not match confirm nope, aborting.\n"

    result = await deis("destroy", "--confirm=doomed")
    assert result.ok, result
    assert result.stdout.startswith("Destroying doomed...\ndone in ")
    assert "Git remote deis removed" in result.stdout
    assert git(workspace, "remote").strip() == ""
    assert (await deis("apps")).stdout == "=== Apps\n"


async def test_transfer_gives_the_app_to_another_user(controller, deis, admin) -> None:
    alice = await register(deis, controller, "alice")
    assert (await deis("create", "gift", "--no-remote")).ok
    result = await deis("apps:transfer", "alice", "-a", "gift")
    assert result.stdout == "Transferring gift to alice... done\n", result
    assert (await deis("apps", env=alice)).stdout == "=== Apps\ngift\n"
    nobody = await deis("apps:transfer", "nobody", "-a", "gift")
    assert nobody.returncode == 1 and "404 Not Found" in nobody.stderr


async def test_logs_and_run_report_what_is_missing(deis, admin) -> None:
    assert (await deis("create", "quiet", "--no-remote")).ok
    run = await deis("run", "-a", "quiet", "--", "ls", "-la")
    assert run.returncode == 1
    assert run.stdout == "Running 'ls -la'...\n"
    assert "No build associated with this release" in run.stderr


async def test_open_hands_the_app_url_to_the_browser(deis, admin, workspace) -> None:
    bin_dir = workspace.home / "bin"
    bin_dir.mkdir()
    opened = workspace.home / "opened"
    browser = bin_dir / "xdg-open"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    assert (await deis("create", "shop", "--no-remote")).ok
    result = await deis("open", "-a", "shop", env={"PATH": f"{bin_dir}:{workspace.env['PATH']}"})
    assert result.ok, result
    assert opened.read_text().startswith("http://shop.")
