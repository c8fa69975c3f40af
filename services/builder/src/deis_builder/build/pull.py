"""Image builds (``deis pull``): an image from any reachable registry (or any transport buildah knows,
such as ``oci-archive:``) becomes a root filesystem in the store plus its run config, like a Dockerfile
build without the building.

buildah pulls as the build user (:mod:`.images`), so an archive on this host (``oci-archive:``,
``dir:``, ...) must be readable by that user. Registry credentials come from the app config:
``DEIS_REGISTRY_USERNAME`` and ``DEIS_REGISTRY_PASSWORD``. They reach buildah in an auth file only the build
user can read, removed with the build; never on a command line, which every local user could read.

With a registry configured (cluster mode), the image is pushed there as ``<registry>/<app>:git-<id8>``
(the first eight hex digits of its image id) and the artifact names that reference
(:mod:`.registry`); the upstream and its credentials are not needed again to run it.

A short name (``deis pull deis/example-go``) is pulled from where Docker would pull it
(``docker.io/deis/example-go``), whatever this host's registries.conf says (:mod:`.references`).

The user names the registry, so the pull runs in the build's network namespace (:mod:`.images`)
when the builder's network is isolated, the default: registries on the internet are reached through its NAT,
this host's listeners (NATS, PostgreSQL, the services, a registry kept on loopback) are not. Loopback there is
the namespace's own, with nothing on it, so no registry is ever reached over plain HTTP. With
``DEIS_BUILDER__NETWORK=host`` (a pod, where something else isolates the builder) pulls share the builder's
network and, as Docker does, a registry on a loopback address may answer over plain HTTP.

A registry's refusal reaches the user in Workflow's words: ``image <name>:<tag> not found`` for an image
the registry does not have (Docker Hub answers "denied" for those when no credentials are given), and
``Permission Denied attempting to pull image <name>:<tag>`` when the credentials are missing or wrong.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
from pathlib import Path

from deis_builder import names
from deis_builder.build import references, slug
from deis_builder.build.buildlog import BuildLog
from deis_builder.build.buildpacks.runner import Workspace
from deis_builder.build.images import Buildah, PullError
from deis_builder.build.registry import ImageRegistry
from deis_builder.errors import BuildError
from deis_common.events.pushes import PushReceived
from deis_common.events.state import BuildArtifact
from deis_common.store import ObjectStore

USERNAME = "DEIS_REGISTRY_USERNAME"
PASSWORD = "DEIS_REGISTRY_PASSWORD"
_LOCAL_TRANSPORTS = ("oci-archive:", "docker-archive:", "oci:", "dir:")
_REFUSED_TRANSPORTS = ("containers-storage:", "docker-daemon:", "sif:", "ostree:")


def registry_of(reference: str) -> str:
    """The registry a ``docker://`` (or transport-less) reference names, as auth files key it."""
    return references.qualified(reference.removeprefix("docker://")).partition("/")[0]


def from_registry(reference: str) -> bool:
    """Whether ``reference`` names an image in a registry (rather than an archive or a directory)."""
    transport = references.transport_of(reference)
    return transport is None or transport == "docker"


def on_loopback(reference: str) -> bool:
    """Whether the registry is on this host's loopback (Docker's implicitly insecure registries)."""
    host = registry_of(reference)
    host = host[1:].partition("]")[0] if host.startswith("[") else host.rpartition(":")[0] or host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def display_name(reference: str) -> str:
    """``<repo>:<tag>`` as Workflow names an image in its messages (``:latest`` when no tag is given)."""
    name = reference.removeprefix("docker://")
    last = name.rpartition("/")[2]
    return name if ":" in last or "@" in last else f"{name}:latest"


_NOT_FOUND = ("manifest unknown", "name unknown", "not found")
_DENIED = ("unauthorized", "authentication required", "denied", "forbidden", "invalid username/password")


def refusal(reference: str, detail: str, credentials: bool) -> str | None:
    """Workflow's message for a registry's refusal in buildah's ``detail``; None for other failures."""
    if not from_registry(reference):
        return None
    text = detail.lower()
    name = display_name(reference)
    # Docker Hub answers "requested access to the resource is denied" for a repository that does not exist.
    if any(word in text for word in _NOT_FOUND) or (not credentials and "requested access" in text):
        return f"image {name} not found"
    if any(word in text for word in _DENIED):
        return f"Permission Denied attempting to pull image {name}"
    return None


def auth_file(reference: str, username: str, password: str) -> str:
    """A containers-auth.json with one registry's credentials."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {registry_of(reference): {"auth": token}}})


def image_sha8(image_id: str) -> str:
    """The tag part of a pulled image in the platform registry: the first eight hex digits of its id."""
    digits = image_id.removeprefix("sha256:")
    if len(digits) < 8 or any(c not in "0123456789abcdef" for c in digits[:8]):
        raise BuildError(f"buildah returned no image id but {image_id!r}")
    return digits[:8]


def check_reference(reference: str, private_dirs: list[Path]) -> None:
    """Refuse references that are no image, or that would read this host's private files."""
    if not reference or reference.startswith("-") or any(c.isspace() for c in reference):
        raise BuildError(f"{reference!r} is not an image reference")
    if reference.startswith(_REFUSED_TRANSPORTS):
        raise BuildError(f"Images cannot be pulled from {reference.split(':', 1)[0]}")
    if reference.startswith(_LOCAL_TRANSPORTS):
        path = Path(reference.split(":", 1)[1].split(":", 1)[0]).resolve()
        if any(path.is_relative_to(d.resolve()) for d in private_dirs):
            raise BuildError("The image may not be read from the builder's own data")


class ImagePuller:
    def __init__(
        self, store: ObjectStore, buildah: Buildah, registry: ImageRegistry, private_dirs: list[Path]
    ) -> None:
        self._store = store
        self._buildah = buildah
        self._registry = registry
        self._private_dirs = private_dirs

    async def pull(self, push: PushReceived, workspace: Workspace, log: BuildLog) -> BuildArtifact:
        reference = push.image.strip()
        check_reference(reference, self._private_dirs)
        username, password = push.env.get(USERNAME), push.env.get(PASSWORD)
        if (username or password) and not (username and password):
            raise BuildError(f"Set both {USERNAME} and {PASSWORD} to pull from a private registry")
        source = references.qualified(reference)  # buildah never resolves a short name itself
        await log.step(f"Pulling image {reference}" + ("" if source == reference else f" ({source})"))
        async with self._buildah.build_dir(push.build_id) as work:
            authfile = None
            if username and password:
                await asyncio.to_thread(
                    work.write_private, "auth.json", auth_file(source, username, password)
                )
                authfile = work.seen_by_buildah("auth.json")
            # Docker's implicitly insecure registries; in a namespace of its own loopback has none.
            insecure = not self._buildah.isolated and from_registry(source) and on_loopback(source)
            try:
                image = await self._buildah.pull(source, authfile, tls_verify=not insecure)
            except PullError as e:
                await log.line(f" !     {e.detail}")
                message = refusal(reference, e.detail, credentials=authfile is not None)
                if message is None:
                    raise
                raise BuildError(message) from e
            location = reference
            try:
                config = await self._buildah.inspect(image)
                size = await self._buildah.export_rootfs(image, work, "rootfs.tgz")
                if self._registry.configured:
                    location = await self._registry.push(image, push.app, image_sha8(image), work, log)
            finally:
                await self._buildah.remove(image)
            await log.step(f"Image root filesystem is {slug.human_size(size)}")
            key = names.image_rootfs_key(push.app, push.build_id)
            await self._store.put_file(names.BUCKET, key, work.host / "rootfs.tgz")
        return BuildArtifact(kind="image", location=location, sha="", procfile={}, image=config, rootfs=key)
