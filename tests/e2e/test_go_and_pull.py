"""Workflow's flagship example, example-go, deployed the way its README says, through the router; and
`deis pull` failures told in Workflow's words while the app keeps running.

The platform is started by the launcher; every step goes through the `deis` CLI, `git push` over SSH, or
HTTP through the router by host name.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from deis_common.testing.registry import docker_registry
from tests.e2e.platform import Platform, User, started_platform, wait_until

pytestmark = pytest.mark.e2e

EXAMPLE_GO = Path(__file__).parents[1] / "builder" / "apps" / "example-go"
RUBY = Path(__file__).parents[1] / "builder" / "apps" / "ruby"


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with started_platform("deis-e2e-go-") as plat:
        yield plat


@pytest.fixture(scope="module")
def gopher(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> User:
    user = User("gopher", tmp_path_factory.mktemp("gopher-home"), platform)
    user.ok(
        "register", platform.controller, "--username=gopher", "--password=go-go-go", "--email=g@example.com"
    )
    user.ok("keys:add", str(user.key) + ".pub")
    return user


def page(platform: Platform, host: str) -> str:
    status, body, _ = platform.get(host)
    return body if status == 200 else f"<{status}>"


def test_example_go_is_built_served_redeployed_and_a_ruby_push_is_refused(
    platform: Platform, gopher: User, tmp_path: Path
) -> None:
    repo = gopher.checkout(EXAMPLE_GO, tmp_path)
    gopher.ok("create", "example-go", cwd=repo)
    pushed = gopher.push(repo)
    assert pushed.code == 0, pushed.text
    for line in ("-----> Go app detected", "bin/example-go", "Done, example-go:v2 deployed to Workflow"):
        assert line in pushed.err, f"missing {line!r} in push output:\n{pushed.err}"
    host = "example-go.localhost"
    assert page(platform, host) == "Powered by Deis\nRelease v2 on example-go\n"

    # A code-only change: the build cache is reused as it is and the new code is served.
    web = repo / "web.go"
    web.write_text(web.read_text().replace("Powered by Deis", "Powered by Deis and Go"))
    gopher.commit_all(repo, "a new greeting")
    pushed = gopher.push(repo)
    assert pushed.code == 0, pushed.text
    assert "Dependencies unchanged, the build cache stays as it was" in pushed.err
    assert "Cache unchanged, not updating" in pushed.err
    assert page(platform, host) == "Powered by Deis and Go\nRelease v3 on example-go\n"

    # Ruby has no bundled buildpack: the push fails saying how to bring one, and v3 keeps serving.
    for name in ("Gemfile", "app.rb", "Procfile"):
        shutil.copy(RUBY / name, repo / name)
    gopher.commit_all(repo, "rewrite it in Ruby")
    (repo / "web.go").unlink()
    (repo / "Godeps" / "Godeps.json").unlink()
    gopher.commit_all(repo, "no more Go")
    refused = gopher.push(repo)
    assert refused.code != 0, refused.text
    assert "-----> Unable to select a buildpack" in refused.err
    assert "No bundled buildpack builds Ruby apps (this app has Gemfile)." in refused.err
    assert "deis config:set BUILDPACK_URL=" in refused.err
    assert "Procfile app detected" not in refused.err
    assert page(platform, host) == "Powered by Deis and Go\nRelease v3 on example-go\n"
    releases = gopher.ok("releases", cwd=repo)
    assert "v4" not in releases and "v3" in releases
    wait_until(lambda: "web" in gopher.ok("ps", cwd=repo), what="the web process still listed")


def test_deis_pull_of_a_missing_or_forbidden_image_says_so_and_the_app_keeps_running(
    platform: Platform, gopher: User, tmp_path: Path
) -> None:
    # The app of the test above (example-go, v3) still runs.
    host = "example-go.localhost"
    with docker_registry(tmp_path / "open") as registry:
        missing = gopher.deis("pull", registry.image("nothing/here"), "--app=example-go")
    assert missing.code != 0, missing.text
    assert f"image {registry.host}/nothing/here:latest not found" in missing.text

    credentials = ["DEIS_REGISTRY_USERNAME=alice", "DEIS_REGISTRY_PASSWORD=guess"]
    gopher.ok("config:set", *credentials, "--app=example-go")
    with docker_registry(tmp_path / "private", users={"alice": "s3cret"}) as registry:
        denied = gopher.deis("pull", registry.image("team/app:1"), "--app=example-go")
    assert denied.code != 0, denied.text
    assert f"Permission Denied attempting to pull image {registry.host}/team/app:1" in denied.text

    assert page(platform, host) == "Powered by Deis and Go\nRelease v4 on example-go\n"
    assert "web" in gopher.ok("ps", "--app=example-go")
