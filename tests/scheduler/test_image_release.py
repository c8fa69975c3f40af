"""Image releases (Dockerfile / ``deis pull``) run from their root filesystem in the same kind of sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deis_common.bus import Bus
from deis_common.events.apps import RunRequested
from deis_common.events.containers import ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.events.runs import RunFinished
from deis_common.events.state import AppState, BuildArtifact, ImageConfig
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import get
from tests.scheduler.images import build_rootfs, build_sh_rootfs

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_rootfs(tmp_path_factory.mktemp("image"))


@pytest.fixture(scope="session")
def sh_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_sh_rootfs(tmp_path_factory.mktemp("sh-image"))


async def image_release(store: FsStore, rootfs: Path, **changes: object) -> AppState:
    key = "home/pulled:v2/rootfs.tar"
    await store.put_file("builder", key, rootfs)
    state = AppState(
        app="pulled",
        generation=2,
        version=2,
        build=BuildArtifact(
            kind="image",
            location="registry.example.com/acme/pulled:1.0",
            rootfs=key,
            procfile={"clock": "echo tick from $GREETING; sleep 600"},
            image=ImageConfig(
                entrypoint=["/usr/bin/python3"],
                cmd=["server.py"],
                env={"GREETING": "image-env", "PATH": "/usr/bin:/bin"},
                workdir="/srv/app",
                exposed_ports=[8080],
            ),
        ),
        structure={"cmd": 1, "clock": 1},
    )
    return state.model_copy(update=changes)


async def test_an_image_release_runs_its_entrypoint_and_cmd_in_its_workdir(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore, rootfs: Path
) -> None:
    state = await image_release(store, rootfs)

    await bus.publish(ReleaseCreated(app="pulled", state=state))
    healthy = await recorder.wait_for(ContainersHealthy, where=lambda e: e.app == "pulled", timeout=60)

    assert sorted(p.type for p in healthy.processes) == ["clock", "cmd"]
    [endpoint] = healthy.endpoints
    port = endpoint.rsplit(":", 1)[1]
    assert await get(endpoint) == (200, f"image-env in /srv/app on {port}")


async def test_config_overrides_the_images_env_and_runs_use_the_image(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore, rootfs: Path
) -> None:
    state = await image_release(store, rootfs, env={"GREETING": "configured"})

    await bus.publish(
        RunRequested(
            app="pulled",
            run_id="i1",
            command="echo $GREETING; echo scratch > /run/x && cat /run/x; ls /srv/app; ls /app",
            state=state,
        )
    )
    finished = await recorder.wait_for(RunFinished, where=lambda e: e.run_id == "i1", timeout=60)

    assert "configured" in finished.output and "server.py" in finished.output
    assert "scratch" in finished.output, "the image gets private scratch space on /run"
    assert "No such file or directory" in finished.output, "the host's /app layout is not there"
    assert finished.exit_code != 0


async def test_an_image_with_only_sh_runs_its_procfile_and_deis_run_through_sh(
    scheduler: object,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    sh_rootfs: Path,
) -> None:
    key = "home/tiny:v2/rootfs.tar"
    await store.put_file("builder", key, sh_rootfs)
    state = AppState(
        app="tiny",
        generation=2,
        version=2,
        build=BuildArtifact(
            kind="image",
            location="registry.example.com/acme/tiny:1.0",
            rootfs=key,
            procfile={"clock": "echo tick; while true; do sleep 600; done"},
            image=ImageConfig(cmd=["/bin/sh"], env={"PATH": "/usr/bin:/bin"}),
        ),
        structure={"clock": 1},
    )

    await bus.publish(ReleaseCreated(app="tiny", state=state))
    healthy = await recorder.wait_for(ContainersHealthy, where=lambda e: e.app == "tiny", timeout=60)
    await bus.publish(RunRequested(app="tiny", run_id="sh1", command="env", state=state))
    finished = await recorder.wait_for(RunFinished, where=lambda e: e.run_id == "sh1", timeout=60)

    assert [(p.type, p.state) for p in healthy.processes] == [("clock", "up")]
    assert finished.exit_code == 0, finished.output
    assert "DEIS_APP=tiny" in finished.output.splitlines()
    assert "bash" not in finished.output


async def test_runs_in_an_image_with_bash_use_bash_as_on_workflow(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore, rootfs: Path
) -> None:
    state = await image_release(store, rootfs)

    await bus.publish(
        RunRequested(app="pulled", run_id="b1", command='echo "shell=${BASH_VERSION:+bash}"', state=state)
    )
    finished = await recorder.wait_for(RunFinished, where=lambda e: e.run_id == "b1", timeout=60)

    assert (finished.exit_code, finished.output) == (0, "shell=bash\n")
