"""Dockerfile builds and pulls never run as root on the host: buildah runs rootless as the build user."""

from __future__ import annotations

import asyncio
import io
import os
import pwd
import tarfile
from pathlib import Path

import pytest
from builder_harness import Accounts, SshKey, app_repo, run
from conftest import RunningBuilder

from deis_builder.build.builduser import free_range, parse_ranges
from deis_builder.build.images import Buildah
from deis_builder.build.pull import auth_file, registry_of
from deis_common.events.builds import BuildCompleted
from deis_common.testing import reach
from deis_common.testing.recorder import EventRecorder


def build_user_uid() -> int:
    """Who buildah runs as: the build user under a root builder, else the builder's own user."""
    return pwd.getpwnam("deis-build").pw_uid if os.geteuid() == 0 else os.geteuid()


async def test_a_run_step_is_root_only_inside_the_build_users_namespace(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, recorder: EventRecorder, tmp_path: Path
) -> None:
    await accounts.app("alice", "probe")
    repo = await app_repo("dockerfile-probe", tmp_path / "work", builder.ssh_port, alice_key)
    # What the step will try to reach: the builder's own SSH port and a listener on every host address.
    listener = await asyncio.start_server(lambda r, w: w.close(), "0.0.0.0", 0)
    port = listener.sockets[0].getsockname()[1]
    targets = [f"127.0.0.1 {builder.ssh_port}", *(f"{address} {port}" for address in reach.host_addresses())]
    await asyncio.to_thread((repo.path / "targets").write_text, "\n".join(targets) + "\n")
    code, out = await run("gcc", "-static", "-Os", "-o", "probe", "probe.c", cwd=repo.path)
    assert code == 0, out
    await repo.commit("the probe")
    code, output = await repo.push("probe")
    assert code == 0, output
    completed = await recorder.wait_for(BuildCompleted, where=lambda e: e.app == "probe")
    assert completed.artifact.rootfs is not None
    with tarfile.open(
        fileobj=io.BytesIO(await builder.store.get("builder", completed.artifact.rootfs))
    ) as tar:
        recorded = ("uid", "uid_map", "chroot", "net")
        files = {name: tar.extractfile(f"./{name}").read().decode() for name in recorded}  # type: ignore[union-attr]
        owners = {name: tar.getmember(f"./{name}").uid for name in ("uid", "owned")}
    assert files["uid"].strip() == "0", "the step is root inside its user namespace, as images expect"
    inside, outside, count = (int(n) for n in files["uid_map"].split("\n")[0].split())
    assert (inside, count) == (0, 1)
    assert outside == build_user_uid() != 0, (
        f"root in the step is the build user on the host: {files['uid_map']}"
    )
    assert files["chroot"].strip() != "allowed", "a step cannot chroot out of the image"
    assert owners == {"uid": 0, "owned": 1000}, "the root filesystem keeps the image's own owners"
    listener.close()
    reached = files["net"].splitlines()
    assert len(reached) == len(targets) and not [line for line in reached if line.endswith(" connected")], (
        f"a RUN step reached this host: {reached}"
    )


async def test_buildah_reads_registry_credentials_from_a_file_only_the_build_user_can_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "builder").mkdir(mode=0o700)
    buildah = Buildah(tmp_path / "builder", "vfs", "deis-build")
    async with buildah.prepared(), buildah.build_dir("creds") as work:
        work.write_private("auth.json", auth_file("registry.example:5000/team/app:1", "me", "s3cret"))
        info = (work.host / "auth.json").stat()
        assert (info.st_mode & 0o777, info.st_uid) == (0o600, build_user_uid())
        assert "s3cret" not in " ".join(
            buildah.command("pull", "--authfile", work.seen_by_buildah("auth.json"))
        )
        output = await buildah.run(
            "login", "--get-login", "--authfile", work.seen_by_buildah("auth.json"), "registry.example:5000"
        )
        assert output.strip().splitlines()[-1] == "me"


@pytest.mark.parametrize(
    ("reference", "registry"),
    [
        ("docker://registry.example:5000/team/app:1", "registry.example:5000"),
        ("quay.io/team/app@sha256:abc", "quay.io"),
        ("localhost/app", "localhost"),
        ("nginx:1.27", "docker.io"),
        ("library/nginx", "docker.io"),
        ("docker://index.docker.io/library/nginx", "docker.io"),
    ],
)
def test_credentials_are_keyed_by_the_registry_the_reference_names(reference: str, registry: str) -> None:
    assert registry_of(reference) == registry


def test_the_build_user_gets_the_first_subordinate_range_nobody_has() -> None:
    taken = parse_ranges("alice:100000:65536\n1001:165536:65536\nbroken line\n")
    assert [(start, count) for _, start, count in taken] == [(100000, 65536), (165536, 65536)]
    assert free_range([(start, count) for _, start, count in taken]) == 231072
    assert free_range([]) == 100000
    assert free_range([(150000, 10)]) == 165536
