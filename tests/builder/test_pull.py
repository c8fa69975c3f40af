"""deis pull: an image becomes a root filesystem in the store and its run config, without Docker."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from builder_harness import APPS, run
from conftest import RunningBuilder

from deis_builder.build.pull import on_loopback, refusal
from deis_common import netns
from deis_common.bus import Bus
from deis_common.events.builds import BuildCompleted, BuildFailed
from deis_common.events.pushes import PushReceived
from deis_common.testing import elsewhere, reach
from deis_common.testing.recorder import EventRecorder
from deis_common.testing.registry import docker_registry


@pytest_asyncio.fixture
async def image_archive(tmp_path: Path) -> AsyncIterator[str]:
    """The Dockerfile fixture app built with buildah and saved as an OCI archive (no registry needed),
    where the build user can read it (pytest's own temp dirs are private to this user)."""
    context = tmp_path / "image"
    shutil.copytree(APPS / "dockerfile", context)
    code, out = await run("gcc", "-static", "-Os", "-o", "server", "server.c", cwd=context)
    assert code == 0, out
    buildah = [
        "buildah",
        "--root",
        str(tmp_path / "bs"),
        "--runroot",
        str(tmp_path / "br"),
        "--storage-driver",
        "vfs",
    ]
    code, out = await run(
        *buildah, "bud", "--isolation", "chroot", "-q", "-t", "localhost/pulled:1", str(context)
    )
    assert code == 0, out
    with tempfile.TemporaryDirectory(prefix="deis-pull-") as shared:
        archive = Path(shared) / "pulled.tar"
        code, out = await run(*buildah, "push", "localhost/pulled:1", f"oci-archive:{archive}")
        assert code == 0, out
        await asyncio.to_thread(os.chmod, shared, 0o755)
        await asyncio.to_thread(os.chmod, archive, 0o644)
        yield f"oci-archive:{archive}"


CREDENTIALS = {"DEIS_REGISTRY_USERNAME": "alice", "DEIS_REGISTRY_PASSWORD": "s3cret"}


def _pull(app: str, image: str, **env: str) -> PushReceived:
    return PushReceived(
        app=app, build_id=uuid.uuid4().hex, user="alice", sha="", source_key="", image=image, env=env
    )


async def test_a_pulled_image_is_stored_as_a_root_filesystem_with_its_config(
    builder: RunningBuilder, bus: Bus, recorder: EventRecorder, image_archive: str
) -> None:
    request = _pull("pulled", image_archive)
    await bus.publish(request)
    completed = await recorder.wait_for(
        BuildCompleted, where=lambda e: e.build_id == request.build_id, timeout=60
    )
    artifact = completed.artifact
    assert (artifact.kind, artifact.location, artifact.sha) == ("image", image_archive, "")
    assert artifact.image is not None
    assert artifact.image.cmd == ["/server"] and artifact.image.exposed_ports == [5000]
    assert artifact.rootfs == f"home/pulled/images/{request.build_id}/rootfs.tgz"
    with tarfile.open(fileobj=io.BytesIO(await builder.store.get("builder", artifact.rootfs))) as tar:
        assert tar.getmember("./server").isfile()


async def test_an_image_that_cannot_be_pulled_fails_with_the_reason(
    builder: RunningBuilder, bus: Bus, recorder: EventRecorder
) -> None:
    request = _pull("nopull", "docker://127.0.0.1:9/nothing/here:latest")
    await bus.publish(request)
    failed = await recorder.wait_for(BuildFailed, where=lambda e: e.build_id == request.build_id, timeout=30)
    assert failed.reason.startswith("Cannot pull the image docker://127.0.0.1:9/nothing/here:latest: ")


async def test_registry_credentials_need_both_a_username_and_a_password(
    builder: RunningBuilder, bus: Bus, recorder: EventRecorder
) -> None:
    request = _pull("halfcreds", "docker://registry.example/app:1", DEIS_REGISTRY_USERNAME="me")
    await bus.publish(request)
    failed = await recorder.wait_for(BuildFailed, where=lambda e: e.build_id == request.build_id, timeout=30)
    assert (
        failed.reason
        == "Set both DEIS_REGISTRY_USERNAME and DEIS_REGISTRY_PASSWORD to pull from a private registry"
    )


async def test_an_archive_the_build_user_cannot_read_is_not_pulled(
    builder: RunningBuilder, bus: Bus, recorder: EventRecorder, image_archive: str, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("only a root builder runs buildah as another user")
    private = tmp_path / "private.tar"  # pytest's temp dirs are this user's only
    await asyncio.to_thread(shutil.copy, image_archive.removeprefix("oci-archive:"), private)
    request = _pull("privatepull", f"oci-archive:{private}")
    await bus.publish(request)
    failed = await recorder.wait_for(BuildFailed, where=lambda e: e.build_id == request.build_id, timeout=30)
    assert failed.reason.startswith(f"Cannot pull the image oci-archive:{private}: ")
    assert "permission denied" in failed.reason


async def test_an_image_the_registry_does_not_have_is_not_found(
    builder: RunningBuilder, bus: Bus, recorder: EventRecorder, tmp_path: Path
) -> None:
    with docker_registry(tmp_path / "registry") as registry:
        request = _pull("missing", registry.image("nothing/here"))
        await bus.publish(request)
        failed = await recorder.wait_for(
            BuildFailed, where=lambda e: e.build_id == request.build_id, timeout=60
        )
    assert failed.reason == f"image {registry.host}/nothing/here:latest not found"


async def test_a_private_registry_answers_wrong_or_missing_credentials_with_permission_denied(
    builder: RunningBuilder, bus: Bus, recorder: EventRecorder, tmp_path: Path
) -> None:
    with docker_registry(tmp_path / "registry", users={"alice": "s3cret"}) as registry:
        image = registry.image("team/app:1")
        wrong = _pull("private", image, DEIS_REGISTRY_USERNAME="alice", DEIS_REGISTRY_PASSWORD="guess")
        anonymous = _pull("private", image)
        for request in (wrong, anonymous):
            await bus.publish(request)
            failed = await recorder.wait_for(
                BuildFailed, where=lambda e, r=request: e.build_id == r.build_id, timeout=60
            )
            assert failed.reason == f"Permission Denied attempting to pull image {image}"


async def test_an_image_in_a_private_registry_is_pulled_with_the_apps_credentials(
    builder: RunningBuilder, bus: Bus, recorder: EventRecorder, image_archive: str, tmp_path: Path
) -> None:
    with docker_registry(tmp_path / "registry", users={"alice": "s3cret"}) as registry:
        image = registry.image("team/app:1")
        code, out = await run(
            "buildah", "--root", str(tmp_path / "bs"), "--runroot", str(tmp_path / "br"),
            "--storage-driver", "vfs", "push", "--tls-verify=false", "--creds", "alice:s3cret",
            "localhost/pulled:1", f"docker://{image}",
        )  # fmt: skip
        assert code == 0, out
        missing = _pull("private", registry.image("team/other:1"), **CREDENTIALS)
        request = _pull("private", image, **CREDENTIALS)
        await bus.publish(missing)
        await bus.publish(request)
        failed = await recorder.wait_for(
            BuildFailed, where=lambda e: e.build_id == missing.build_id, timeout=60
        )
        completed = await recorder.wait_for(
            BuildCompleted, where=lambda e: e.build_id == request.build_id, timeout=120
        )
    assert failed.reason == f"image {registry.host}/team/other:1 not found", "the credentials were accepted"
    assert completed.artifact.image is not None and completed.artifact.image.cmd == ["/server"]


def _this_hosts_addresses() -> list[str]:
    """The host's own addresses but loopback, and but its ends of sandbox and remote host pairs."""
    pairs = [ipaddress.ip_network(netns.DEFAULT_CIDR), ipaddress.ip_network(elsewhere.CIDR)]
    addresses = reach.host_addresses(loopback=False)
    return [a for a in addresses if not any(ipaddress.ip_address(a) in p for p in pairs)]


async def test_a_tenants_pull_reaches_a_registry_elsewhere_but_nothing_listening_on_this_host(
    builder: RunningBuilder, bus: Bus, recorder: EventRecorder, image_archive: str, tmp_path: Path
) -> None:
    with docker_registry(tmp_path / "registry") as registry:
        image = registry.image("team/app:1")
        buildah = ["buildah", "--root", str(tmp_path / "bs"), "--runroot", str(tmp_path / "br")]
        code, out = await run(*buildah, "--storage-driver", "vfs", "pull", "--quiet", image_archive)
        assert code == 0, out
        pulled = out.strip().splitlines()[-1]
        code, out = await run(*buildah, "--storage-driver", "vfs", "push", pulled, f"docker://{image}")
        assert code == 0, out
        request = _pull("fetched", image)
        await bus.publish(request)
        completed = await recorder.wait_for(
            BuildCompleted, where=lambda e: e.build_id == request.build_id, timeout=120
        )
    assert completed.artifact.image is not None and completed.artifact.image.cmd == ["/server"]

    seen: list[str] = []
    async with reach.host_listener(seen) as port:
        # Loopback is the build's own: nothing there. The host's own addresses refuse builds at once.
        [address, *_] = _this_hosts_addresses()
        for host in ("127.0.0.1", "localhost", address):
            request = _pull("snoop", f"{host}:{port}/private/image:1")
            await bus.publish(request)
            failed = await recorder.wait_for(
                BuildFailed, where=lambda e, r=request: e.build_id == r.build_id, timeout=60
            )
            assert "connection refused" in failed.reason, failed.reason
    assert seen == [], "a tenant's pull connected to a listener on this host"


@pytest.mark.parametrize(
    ("reference", "detail", "credentials", "message"),
    [
        (
            "deis/nope",
            "initializing source docker://deis/nope:latest: reading manifest latest in "
            "docker.io/deis/nope: requested access to the resource is denied",
            False,
            "image deis/nope:latest not found",
        ),
        (
            "deis/private:v2",
            "reading manifest v2 in docker.io/deis/private: requested access to the resource is denied",
            True,
            "Permission Denied attempting to pull image deis/private:v2",
        ),
        (
            "docker://quay.io/team/app@sha256:" + "ab" * 32,
            "reading manifest sha256:abab in quay.io/team/app: manifest unknown",
            False,
            "image quay.io/team/app@sha256:" + "ab" * 32 + " not found",
        ),
        ("oci-archive:/srv/app.tar", "open /srv/app.tar: permission denied", False, None),
        ("registry.example/app", "pinging container registry registry.example: no such host", False, None),
    ],
)
def test_registry_refusals_are_told_in_workflows_words(
    reference: str, detail: str, credentials: bool, message: str | None
) -> None:
    assert refusal(reference, detail, credentials) == message


def test_only_registries_on_loopback_may_answer_over_plain_http() -> None:
    assert on_loopback("127.0.0.1:5000/app") and on_loopback("localhost:5000/app")
    assert on_loopback("docker://[::1]:5000/app:1")
    assert not on_loopback("registry.example:5000/app") and not on_loopback("deis/example-go")
