"""What happens after the build: rejected releases and failed deploys fail the push; metrics count
builds; a destroyed app's repository and artifacts go away."""

from __future__ import annotations

from pathlib import Path

import structlog
from builder_harness import Accounts, SshKey, app_repo
from conftest import RunningBuilder
from test_push import in_order, remote_lines

from deis_builder.cleanup import Cleaner
from deis_builder.push.repos import Repos
from deis_common.bus import Bus, Context
from deis_common.events.apps import AppDestroyed
from deis_common.events.base import Envelope
from deis_common.events.releases import ReleaseRejected
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder


async def test_a_procfile_the_controller_refuses_fails_the_push(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "badtypes")
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    (repo.path / "Procfile").write_text("web: sh worker.sh\nworker_test: sh worker.sh\n")
    await repo.commit("a process type with an underscore")
    code, output = await repo.push("badtypes")
    assert code == 1, output
    rejected = await recorder.wait_for(ReleaseRejected, where=lambda e: e.app == "badtypes")
    in_order(
        remote_lines(output),
        "Build complete.",
        "Launching App...",
        f"The controller returned an error when publishing the release: {rejected.reason}",
        "error: failed to push some refs",
    )
    code, refs = await repo.git("ls-remote", repo.remote("badtypes"))
    assert refs.strip() == ""


async def test_a_failed_deploy_fails_the_push_with_its_reason(
    builder: RunningBuilder,
    accounts: Accounts,
    alice_key: SshKey,
    failing_deploys: dict[str, str],
    tmp_path: Path,
) -> None:
    await accounts.app("alice", "crashy")
    failing_deploys["crashy"] = "web.1 exited with code 3 before it was ready"
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("crashy")
    assert code == 1, output
    in_order(
        remote_lines(output),
        "Launching App...",
        "The controller returned an error when publishing the release: web.1 exited with code 3 before it",
        "error: failed to push some refs",
    )
    assert not any("deployed to Workflow" in line for line in remote_lines(output))


async def test_builds_are_counted_in_the_metrics(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path
) -> None:
    await accounts.app("alice", "counted")
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("counted")
    assert code == 0, output
    metrics = await builder.metrics()
    assert 'deis_builder_builds_total{kind="buildpack",outcome="completed"} 1.0' in metrics
    assert 'deis_builder_build_seconds_count{kind="buildpack"} 1.0' in metrics
    assert 'deis_builder_pushes_total{outcome="deployed"} 1.0' in metrics
    assert "deis_builder_queue_depth 0.0" in metrics


async def test_a_destroyed_app_loses_its_repository_cache_and_artifacts(bus: Bus, tmp_path: Path) -> None:
    repos = Repos(tmp_path / "repos")
    await repos.ensure("gone")
    await repos.ensure("gone-too")
    async with FsStore(tmp_path / "store") as store:
        for key in (
            "home/gone:git-1234abcd/tar",
            "home/gone/cache/cache.tgz",
            "home/gone-too:git-1234abcd/tar",
        ):
            await store.put("builder", key, b"x")
        event = AppDestroyed(app="gone")
        ctx = Context(
            bus=bus,
            envelope=Envelope.wrap(event, source="tests"),
            deliveries=1,
            log=structlog.get_logger("tests"),
            service="builder",
        )
        await Cleaner(repos, store).app_destroyed(event, ctx)
        assert await store.list("builder", "home/") == ["home/gone-too:git-1234abcd/tar"]
    assert not repos.exists("gone") and repos.exists("gone-too")
