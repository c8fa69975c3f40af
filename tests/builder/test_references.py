"""Short image names resolve as Docker resolves them, whatever this host's registries.conf says."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from deis_builder.build.dockerfile import with_qualified_bases
from deis_builder.build.pull import ImagePuller
from deis_builder.build.references import qualified, transport_of
from deis_builder.build.registry import ImageRegistry
from deis_builder.errors import BuildError
from deis_common.events.pushes import PushReceived
from deis_common.settings import RegistrySettings

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("busybox", "docker.io/library/busybox"),
        ("python:3.11-slim", "docker.io/library/python:3.11-slim"),
        ("busybox@" + DIGEST, "docker.io/library/busybox@" + DIGEST),
        ("deis/example-go", "docker.io/deis/example-go"),
        ("deis/example-go:latest", "docker.io/deis/example-go:latest"),
        ("docker.io/busybox", "docker.io/library/busybox"),
        ("index.docker.io/deis/example-go", "docker.io/deis/example-go"),
        ("index.docker.io/busybox:1", "docker.io/library/busybox:1"),
        ("registry.example:5000/app", "registry.example:5000/app"),
        ("127.0.0.1:5000/team/app:1", "127.0.0.1:5000/team/app:1"),
        ("quay.io/team/app@" + DIGEST, "quay.io/team/app@" + DIGEST),
        ("ghcr.io/deis/ns/example-go:v1", "ghcr.io/deis/ns/example-go:v1"),
        ("localhost/app", "localhost/app"),
        ("localhost:5000/app", "localhost:5000/app"),
        ("Registry/app", "Registry/app"),  # upper case: a host, as Docker reads it
        ("docker://busybox", "docker://busybox"),
        ("docker://deis/example-go:1", "docker://deis/example-go:1"),
        ("oci-archive:/srv/images/app.tar", "oci-archive:/srv/images/app.tar"),
        ("oci-archive:/srv/app.tar:app:1", "oci-archive:/srv/app.tar:app:1"),
        ("docker-archive:/srv/app.tar", "docker-archive:/srv/app.tar"),
        ("oci:/srv/layout:app", "oci:/srv/layout:app"),
        ("dir:/srv/image", "dir:/srv/image"),
    ],
)
def test_a_reference_names_the_registry_docker_would_pull_from(reference: str, expected: str) -> None:
    assert qualified(reference) == expected


def test_a_qualified_reference_stays_as_it_is() -> None:
    for reference in ("docker.io/library/busybox", "docker.io/deis/example-go:1", "quay.io/a/b@" + DIGEST):
        assert qualified(qualified(reference)) == qualified(reference) == reference


def test_only_known_transports_count_as_transports() -> None:
    assert transport_of("oci-archive:/x.tar") == "oci-archive"
    assert transport_of("docker://x") == "docker"
    assert transport_of("python:3.11") is None  # a tag, not a transport
    assert transport_of("registry:5000/app") is None


def test_dockerfile_base_images_are_qualified_but_stages_scratch_and_args_are_not() -> None:
    dockerfile = (
        "ARG BASE=debian:bookworm\n"
        "FROM golang:1.22 AS build\n"
        "RUN go build -o /app .\n"
        "from --platform=linux/amd64 deis/base as runtime\n"
        "FROM build\n"
        "FROM $BASE\n"
        "FROM ghcr.io/acme/app:1\n"
        "FROM scratch\n"
        "COPY --from=build /app /app\n"
    )
    assert with_qualified_bases(dockerfile).splitlines() == [
        "ARG BASE=debian:bookworm",
        "FROM docker.io/library/golang:1.22 AS build",
        "RUN go build -o /app .",
        "from --platform=linux/amd64 docker.io/deis/base as runtime",
        "FROM build",
        "FROM $BASE",
        "FROM ghcr.io/acme/app:1",
        "FROM scratch",
        "COPY --from=build /app /app",
    ]


class _RecordingBuildah:
    """Stands in for buildah: records what it is asked to pull, and has no registry to pull from."""

    def __init__(self, tmp: Path, isolated: bool = True) -> None:
        self.tmp = tmp
        self.isolated = isolated  # pulls in a network namespace of their own: the builder's default
        self.pulled: list[tuple[str, str | None]] = []
        self.auth: list[str] = []
        self.tls_verify: list[bool] = []

    @contextlib.asynccontextmanager
    async def build_dir(self, build_id: str) -> AsyncIterator[Any]:
        buildah = self

        class Work:
            def write_private(self, name: str, content: str) -> None:
                buildah.auth.append(content)

            def seen_by_buildah(self, name: str) -> str:
                return str(buildah.tmp / name)

        yield Work()

    async def pull(self, reference: str, authfile: str | None = None, *, tls_verify: bool = True) -> str:
        self.tls_verify.append(tls_verify)
        self.pulled.append((reference, authfile))
        raise BuildError(f"Cannot pull the image {reference}: no registry here")


class _Log:
    def __init__(self) -> None:
        self.steps: list[str] = []

    async def step(self, text: str) -> None:
        self.steps.append(text)


@pytest.mark.parametrize(
    ("image", "pulled"),
    [
        ("deis/example-go", "docker.io/deis/example-go"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("registry.example:5000/team/app", "registry.example:5000/team/app"),
    ],
)
async def test_deis_pull_hands_buildah_the_name_docker_would_pull(
    tmp_path: Path, image: str, pulled: str
) -> None:
    buildah, log = _RecordingBuildah(tmp_path), _Log()
    registry = ImageRegistry(RegistrySettings(), buildah)  # none: the embedded default
    puller = ImagePuller(store=None, buildah=buildah, registry=registry, private_dirs=[tmp_path / "private"])  # type: ignore[arg-type]
    push = PushReceived(
        app="web",
        build_id=uuid.uuid4().hex,
        user="alice",
        sha="",
        source_key="",
        image=image,
        env={"DEIS_REGISTRY_USERNAME": "me", "DEIS_REGISTRY_PASSWORD": "s3cret"},
    )
    with pytest.raises(BuildError, match="no registry here"):
        await puller.pull(push, workspace=None, log=log)  # type: ignore[arg-type]
    assert buildah.pulled == [(pulled, str(tmp_path / "auth.json"))]
    assert buildah.tls_verify == [True], "registries off this host need TLS"
    registry = pulled.split("/", 1)[0]
    assert list(json.loads(buildah.auth[0])["auths"]) == [registry]
    assert log.steps == [f"Pulling image {image}" + ("" if image == pulled else f" ({pulled})")]


@pytest.mark.parametrize(
    ("isolated", "tls_verify"),
    [(True, True), (False, False)],
    ids=["in-the-builds-namespace", "on-the-builders-network"],
)
async def test_a_registry_on_loopback_may_answer_over_plain_http_only_on_the_builders_own_network(
    tmp_path: Path, isolated: bool, tls_verify: bool
) -> None:
    buildah = _RecordingBuildah(tmp_path, isolated=isolated)
    registry = ImageRegistry(RegistrySettings(), buildah)  # none: the embedded default
    puller = ImagePuller(store=None, buildah=buildah, registry=registry, private_dirs=[])  # type: ignore[arg-type]
    push = PushReceived(
        app="web", build_id=uuid.uuid4().hex, user="alice", sha="", source_key="", image="127.0.0.1:5000/app"
    )
    with pytest.raises(BuildError, match="no registry here"):
        await puller.pull(push, workspace=None, log=_Log())  # type: ignore[arg-type]
    assert buildah.tls_verify == [tls_verify]
