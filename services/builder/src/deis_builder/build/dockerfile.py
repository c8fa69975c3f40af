"""Dockerfile builds with buildah, without a Docker daemon or a registry.

``buildah bud --isolation chroot`` builds the image into the builder's own image storage (under the data
dir), rootless: as the build user, so a ``RUN`` step is root only in buildah's user namespace, never on the
host (:mod:`.images`). The image's root filesystem is then exported as a tarball to the store
(``home/<app>:git-<sha8>/push/rootfs.tgz``) together with what its config says about running it
(entrypoint, cmd, env, workdir, user, exposed ports), so the scheduler can run it locally; with a registry
configured (cluster mode) it is also pushed as ``<registry>/<app>:git-<sha8>`` (:mod:`.registry`).
With ``DEIS_DOCKER_BUILD_ARGS_ENABLED`` in the app config (or the builder setting), every config value is
also passed as a build arg (an ``ARG <KEY>`` line after each ``FROM``). A short base image name
(``FROM python:3.11``) is spelled out the way Docker reads it (``docker.io/library/python:3.11``), whatever
this host's registries.conf says (:mod:`.references`).
"""

from __future__ import annotations

import asyncio
import re

from deis_builder import names
from deis_builder.build import references, slug
from deis_builder.build.buildlog import BuildLog
from deis_builder.build.buildpacks.runner import Workspace
from deis_builder.build.images import Buildah
from deis_builder.build.registry import ImageRegistry
from deis_builder.errors import BuildError
from deis_common.events.pushes import PushReceived
from deis_common.events.state import BuildArtifact
from deis_common.store import ObjectStore

INSTRUCTIONS = frozenset(
    [
        "FROM",
        "RUN",
        "CMD",
        "LABEL",
        "MAINTAINER",
        "EXPOSE",
        "ENV",
        "ADD",
        "COPY",
        "ENTRYPOINT",
        "VOLUME",
        "USER",
        "WORKDIR",
        "ARG",
        "ONBUILD",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
    ]
)
BUILD_ARGS_FLAG = "DEIS_DOCKER_BUILD_ARGS_ENABLED"
_STEP = re.compile(r"^STEP (\d+)/(\d+): (.*)$")
_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# FROM [--platform=...] <image> [AS <stage>], on one line
_FROM = re.compile(r"^(\s*FROM\s+(?:--\S+\s+)*)(\S+)((?:\s+AS\s+(\S+))?\s*)$", re.IGNORECASE)


def instructions(dockerfile: str) -> list[tuple[int, str, str]]:
    """``(line number, INSTRUCTION, arguments)`` of each instruction, continuation lines joined."""
    out: list[tuple[int, str, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(dockerfile.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((start, word.upper(), rest.strip()))
    if pending.strip():
        word, _, rest = pending.strip().partition(" ")
        out.append((start, word.upper(), rest))
    return out


def check_dockerfile(dockerfile: str) -> None:
    """Refuse what no builder can build, with docker's own wording."""
    steps = instructions(dockerfile)
    for _, instruction, _ in steps:
        if instruction not in INSTRUCTIONS:
            raise BuildError(f"Unknown instruction: {instruction}")
    first = next((s for s in steps if s[1] != "ARG"), None)
    if first is None or first[1] != "FROM":
        raise BuildError("The Dockerfile must start with a FROM instruction")


def with_build_args(dockerfile: str, keys: list[str]) -> str:
    """The Dockerfile with an ``ARG <KEY>`` line after every ``FROM`` line."""
    lines = []
    for line in dockerfile.splitlines():
        lines.append(line)
        if line.strip().upper().startswith("FROM "):
            lines.extend(f"ARG {key}" for key in keys)
    return "\n".join(lines) + "\n"


def with_qualified_bases(dockerfile: str) -> str:
    """The Dockerfile with each ``FROM`` image named as Docker would pull it; earlier stages, ``scratch``
    and names built from ``ARG`` values stay as they are."""
    stages: set[str] = set()
    lines = []
    for line in dockerfile.splitlines():
        match = _FROM.match(line)
        if match:
            head, image, tail, stage = match.groups()
            if image.lower() not in stages and image.lower() != "scratch" and "$" not in image:
                line = head + references.qualified(image) + tail
            if stage:
                stages.add(stage.lower())
        lines.append(line)
    return "\n".join(lines) + "\n"


class DockerfileBuilder:
    def __init__(
        self, store: ObjectStore, buildah: Buildah, registry: ImageRegistry, *, build_args: bool
    ) -> None:
        self._store = store
        self._buildah = buildah
        self._registry = registry
        self._build_args = build_args

    async def build(self, push: PushReceived, workspace: Workspace, log: BuildLog) -> BuildArtifact:
        sha8 = names.short_sha(push.sha)
        source = (workspace.app / "Dockerfile").read_text(errors="replace")
        try:
            check_dockerfile(source)
        except BuildError as e:
            await log.line(str(e))
            raise BuildError(f"Build exited with code 1, stopping build. ({e})") from e
        source = with_qualified_bases(source)
        args: list[str] = []
        if self._build_args or BUILD_ARGS_FLAG in push.env:
            keys = sorted(k for k in push.env if _ARG_NAME.match(k))
            source = with_build_args(source, keys)
            for key in keys:
                args += ["--build-arg", f"{key}={push.env[key]}"]
        tag = f"localhost/{names.image_name(push.app, sha8)}"

        async def relay(line: str) -> None:
            match = _STEP.match(line)
            await log.line(f"Step {match[1]}/{match[2]} : {match[3]}" if match else line)

        async with self._buildah.build_dir(push.build_id) as work:
            # buildah (the build user) reads the context and the Dockerfile from its own area
            context = await asyncio.to_thread(work.adopt, workspace.app, "context")
            await asyncio.to_thread(work.write_private, "Dockerfile", source)
            await log.step("Building the Docker image")
            await self._buildah.run(
                # chroot isolation in buildah's user namespace; without CAP_SYS_CHROOT a RUN step
                # cannot chroot its way out of the image into what the build user sees
                "bud", "--isolation", "chroot", "--cap-drop", "CAP_SYS_CHROOT", "--layers=false",
                "-f", work.seen_by_buildah("Dockerfile"), "-t", tag, *args, work.seen_by_buildah("context"),
                on_line=relay, failure="Build exited with code {code}, stopping build.", timeout=900,
                isolated=True,
            )  # fmt: skip
            location = names.image_name(push.app, sha8)
            try:
                config = await self._buildah.inspect(tag)
                size = await self._buildah.export_rootfs(tag, work, "rootfs.tgz")
                if self._registry.configured:
                    location = await self._registry.push(tag, push.app, sha8, work, log)
            finally:
                await self._buildah.remove(tag)
            await log.step(f"Image root filesystem is {slug.human_size(size)}")
            key = names.rootfs_key(push.app, sha8)
            await self._store.put_file(names.BUCKET, key, work.host / "rootfs.tgz")
            procfile = slug.read_procfile(context) or {}
        return BuildArtifact(
            kind="dockerfile",
            location=location,
            sha=sha8,
            procfile=procfile,
            image=config,
            rootfs=key,
        )
