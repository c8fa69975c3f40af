"""Dockerfile builds with buildah."""

from __future__ import annotations

from deis_builder.buildlog import BuildLog
from deis_builder.buildpacks.runner import Workspace
from deis_builder.errors import BuildError
from deis_common.events.pushes import PushReceived
from deis_common.events.state import BuildArtifact
from deis_common.store import ObjectStore


class DockerfileBuilder:
    def __init__(self, store: ObjectStore, build_args: bool) -> None:
        self._store = store
        self._build_args = build_args

    async def build(self, push: PushReceived, workspace: Workspace, log: BuildLog) -> BuildArtifact:
        raise BuildError("Dockerfile builds are not available on this builder")
