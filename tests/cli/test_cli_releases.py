"""builds (deis pull) and releases, driven through the installed `deis` against a real controller."""

from __future__ import annotations


async def test_pull_creates_a_build_and_a_release_and_rollback_goes_back(deis, admin, workspace) -> None:
    assert (await deis("create", "rel", "--no-remote")).ok
    assert (await deis("builds", "-a", "rel")).stdout == "=== rel Builds\n"

    pulled = await deis("pull", "example/web:v1", "-a", "rel", "--procfile", "web: ./server")
    assert pulled.stdout == "Creating build... done\n", pulled
    builds = (await deis("builds:list", "-a", "rel")).stdout.splitlines()
    assert builds[0] == "=== rel Builds" and len(builds) == 2

    (workspace.cwd / "Procfile").write_text("web: ./server --v2\n")
    assert (await deis("builds:create", "example/web:v2", "-a", "rel")).ok

    releases = (await deis("releases", "-a", "rel")).stdout.splitlines()
    assert releases[0] == "=== rel Releases"
    assert [line.split()[0] for line in releases[1:]] == ["v3", "v2", "v1"]
    assert releases[1].endswith("admin deployed example/web:v2")
    assert releases[3].endswith("admin created initial release")
    assert (await deis("releases:list", "-a", "rel", "-l", "1")).stdout.startswith(
        "=== rel Releases (1 of 3)\nv3"
    )

    info = (await deis("releases:info", "v2", "-a", "rel")).stdout.splitlines()
    assert info[0] == "=== rel Release v2"
    assert "summary: admin deployed example/web:v1" in info
    assert any(line.startswith("build:   ") for line in info)

    rolled = await deis("rollback", "-a", "rel")
    assert rolled.stdout == "Rolling back one release... done, v4\n", rolled
    to_v3 = await deis("releases:rollback", "v3", "-a", "rel")
    assert to_v3.stdout == "Rolling back to v3... done, v5\n"


async def test_release_errors_are_reported(deis, admin) -> None:
    assert (await deis("create", "fresh", "--no-remote")).ok
    initial = await deis("rollback", "-a", "fresh")
    assert initial.returncode == 1
    assert (
        "Cannot roll back to initial release." in initial.stderr
        or "version cannot be below 0" in initial.stderr
    )
    missing = await deis("releases:info", "v9", "-a", "fresh")
    assert missing.returncode == 1
    assert missing.stderr == "Error: 404 Not Found\nNo Release matches the given query.\n"
    broken = await deis("pull", "example/web:v1", "-a", "fresh", "-p", "{web: oops")
    assert broken.returncode == 1 and broken.stderr.startswith("Error: The procfile is not valid JSON")
    as_json = await deis("pull", "example/web:v1", "-a", "fresh", "-p", '{"web": "./server"}')
    assert as_json.ok, as_json
    bad = await deis("releases:info", "latest", "-a", "fresh")
    assert bad.returncode == 1 and bad.stderr == "Error: latest is not a valid version, ex: v2\n"
