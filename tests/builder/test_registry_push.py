"""Cluster mode: every image the builder makes goes to the platform's registry as
``<registry>/<app>:git-<sha8>``, the release carries that reference, and the Kubernetes scheduler runs
exactly it.

A real registry (Debian's docker-registry) runs per test; buildah pushes to it rootless, as the build user;
the registry's own HTTP API says which tags it holds; the scheduler's Kubernetes backend deploys the release
to the test Kubernetes API server, whose stored Deployments show the pod image.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from builder_harness import Accounts, SshKey, app_repo, run
from conftest import RunningBuilder
from test_pull import image_archive  # noqa: F401  (a fixture)

from deis_common.bus import Bus
from deis_common.events.builds import BuildCompleted
from deis_common.events.pushes import PushReceived
from deis_common.events.releases import ReleaseCreated
from deis_common.events.state import AppState
from deis_common.settings import RegistrySettings, ServiceSettings
from deis_common.testing.recorder import EventRecorder
from deis_common.testing.registry import Registry, registry_server
from deis_scheduler.backends.kubernetes.backend import KubernetesBackend
from deis_scheduler.backends.kubernetes.client import connect
from deis_scheduler.settings import KubernetesSettings
from tests.scheduler.kube_server import KubeApiServer


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with registry_server(tmp_path / "registry") as server:
        yield server


@pytest.fixture
def registry_settings(registry: Registry) -> RegistrySettings:
    """The builder in cluster mode: its registry is the test's (plain HTTP, as the chart's in-cluster one)."""
    return RegistrySettings(host=registry.host, insecure=True)


async def pod_images(state: AppState) -> dict[str, str]:
    """The image of each process type's pods when the Kubernetes backend deploys ``state``."""
    server = KubeApiServer()
    await server.start()
    api = await connect(server.url)
    try:
        backend = KubernetesBackend(KubernetesSettings(poll_interval=0.05), ServiceSettings(), api=api)
        await backend.deploy(state, timeout=10)
        return {
            d["metadata"]["labels"]["type"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
            for d in server.list("deployments", state.app)
        }
    finally:
        await api.close()
        await server.stop()


async def test_a_dockerfile_build_is_pushed_and_its_pods_run_exactly_that_reference(
    builder: RunningBuilder,
    registry: Registry,
    accounts: Accounts,
    alice_key: SshKey,
    recorder: EventRecorder,
    tmp_path: Path,
) -> None:
    await accounts.app("alice", "dockerapp")
    repo = await app_repo("dockerfile", tmp_path / "work", builder.ssh_port, alice_key)
    code, out = await run("gcc", "-static", "-Os", "-o", "server", "server.c", cwd=repo.path)
    assert code == 0, out
    sha = await repo.commit("a static server binary")
    code, output = await repo.push("dockerapp")
    assert code == 0, output

    reference = f"{registry.host}/dockerapp:git-{sha[:8]}"
    assert f"Pushing image to {reference}" in output
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "dockerapp", timeout=60)
    assert (completed.artifact.kind, completed.artifact.location) == ("dockerfile", reference)
    assert await asyncio.to_thread(registry.tags, "dockerapp") == [f"git-{sha[:8]}"]
    created = await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == completed.build_id)
    assert created.state.build is not None and created.state.build.location == reference
    assert await pod_images(created.state) == {"cmd": reference}


async def test_a_pulled_image_is_pushed_and_its_pods_run_exactly_that_reference(
    builder: RunningBuilder,
    registry: Registry,
    bus: Bus,
    recorder: EventRecorder,
    image_archive: str,  # noqa: F811  (the fixture imported above)
) -> None:
    request = PushReceived(
        app="pulled",
        build_id=uuid.uuid4().hex,
        user="alice",
        sha="",
        source_key="",
        image=image_archive,
        env={},
    )
    await bus.publish(request)
    completed = await recorder.wait_for(
        BuildCompleted, where=lambda e: e.build_id == request.build_id, timeout=60
    )

    artifact = completed.artifact
    match = re.fullmatch(rf"{re.escape(registry.host)}/pulled:git-([0-9a-f]{{8}})", artifact.location)
    assert match, artifact.location
    assert await asyncio.to_thread(registry.tags, "pulled") == [f"git-{match[1]}"]
    state = AppState(app="pulled", generation=1, version=2, build=artifact, structure={"cmd": 1})
    assert await pod_images(state) == {"cmd": artifact.location}
