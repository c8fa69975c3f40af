"""Images into the platform's registry (cluster mode): what pods pull, as ``<registry>/<app>:git-<sha8>``.

With a registry configured (``DEIS_REGISTRY__HOST``; the chart sets its in-cluster registry, or an external
one with ``DEIS_REGISTRY__USERNAME``/``PASSWORD``), every image the builder makes — a Dockerfile build, or an
image brought in with ``deis pull`` — is pushed there before its build completes, and the artifact names
that reference; the Kubernetes scheduler runs exactly it. ``<sha8>`` is the pushed commit's short sha for a
Dockerfile build and the first eight hex digits of the image id for a pull. Without a registry (one
machine), nothing is pushed: the image's root filesystem in the store is what runs.

The registry password reaches buildah in an auth file only the build user can read, removed with the build.

Pushes run on the builder's own network, not in a build's namespace: the destination is the operator's
(settings), never a tenant's, and an in-cluster or loopback registry must stay reachable.
"""

from __future__ import annotations

import asyncio
import base64
import json

from deis_builder import names
from deis_builder.build.buildlog import BuildLog
from deis_builder.build.images import Buildah, BuildDir
from deis_common.settings import RegistrySettings

AUTH_FILE = "registry-auth.json"


class ImageRegistry:
    def __init__(self, settings: RegistrySettings, buildah: Buildah) -> None:
        self._settings = settings
        self._buildah = buildah

    @property
    def configured(self) -> bool:
        return bool(self._settings.host)

    def reference(self, app: str, sha8: str) -> str:
        return f"{self._settings.host}/{names.image_name(app, sha8)}"

    async def push(self, image: str, app: str, sha8: str, work: BuildDir, log: BuildLog) -> str:
        """Push the local ``image`` as ``<registry>/<app>:git-<sha8>``; returns that reference."""
        reference = self.reference(app, sha8)
        authfile = None
        if self._settings.username:
            token = base64.b64encode(f"{self._settings.username}:{self._settings.password}".encode()).decode()
            content = json.dumps({"auths": {self._settings.host: {"auth": token}}})
            await asyncio.to_thread(work.write_private, AUTH_FILE, content)
            authfile = work.seen_by_buildah(AUTH_FILE)
        await log.step(f"Pushing image to {reference}")
        await self._buildah.push(
            image, f"docker://{reference}", tls_verify=not self._settings.insecure, authfile=authfile
        )
        return reference
