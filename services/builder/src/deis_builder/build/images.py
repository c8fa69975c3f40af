"""buildah as the builder uses it: rootless, with its own area under the data dir, image configs, and image
root filesystems exported as tarballs the scheduler can run without Docker.

Shared by Dockerfile builds (:mod:`.dockerfile`) and image pulls (:mod:`.pull`).

buildah never runs as root. A root builder runs it as the build user (:mod:`.builduser`).
Each call gets a mount namespace, in which the area ``<data>/buildah`` (owned by the build user; the
data dir around it stays private) is bind-mounted at :data:`VIEW`, and a pid namespace of its own. The
privileges are then dropped to the build user. Rootless buildah makes the user namespace that maps the
image's uids to the user's subordinate ids. A builder that is not root runs buildah as itself, on its
area in place. :meth:`Buildah.command` is the one place where the argv of a buildah call is built.

Calls whose network traffic a tenant chooses run in a network namespace of their own
(:mod:`deis_common.netns`, when the builder's network is isolated): a Dockerfile build (its ``RUN`` steps and
``FROM`` pulls) and an image pull (``deis pull <image>`` names any registry). They reach registries on the
internet through the namespace's NAT, never this host's listeners (loopback is the namespace's own; the
host's addresses drop what they send). A push to the platform's own registry (cluster mode) goes where the
operator configured it, on the builder's network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from deis_builder.build import builduser
from deis_builder.build.builduser import BuildUser
from deis_builder.build.sandbox import Network
from deis_builder.errors import BuildError, SandboxError
from deis_builder.process import LineSink, run_streaming
from deis_common import netns
from deis_common.events.state import ImageConfig

log = structlog.get_logger(__name__)

VIEW = builduser.HOME
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_DIRS = ("home", "xdg", "tmp", "builds")
# Run as root inside the fresh mount namespace: the area appears at VIEW, then the rest of the argv runs.
_BIND_THEN_EXEC = 'mount --bind -- "$1" "$2" && shift 2 && exec "$@"'
# Run inside `buildah unshare`, where the image's uids are its own (root is 0), so the tarball keeps them.
_EXPORT = """set -e
image=$1 dest=$2; shift 2
container=$(buildah "$@" from --quiet --pull-never "$image")
trap 'buildah "$@" rm "$container" >/dev/null' EXIT
root=$(buildah "$@" mount "$container")
tar -C "$root" --exclude=./.git --use-compress-program="gzip -1" -cf "$dest" .
"""


class PullError(BuildError):
    """buildah could not pull an image; ``detail`` is what it said last."""

    def __init__(self, reference: str, detail: str) -> None:
        super().__init__(f"Cannot pull the image {reference}: {detail}")
        self.reference = reference
        self.detail = detail


def image_config(inspect: dict[str, Any]) -> ImageConfig:
    """What ``buildah inspect --type image`` says about running the image."""
    config = (inspect.get("OCIv1") or {}).get("config") or {}
    env: dict[str, str] = {}
    for item in config.get("Env") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    ports = []
    for spec in config.get("ExposedPorts") or {}:
        port = str(spec).split("/", 1)[0]
        if port.isdigit():
            ports.append(int(port))
    return ImageConfig(
        entrypoint=list(config.get("Entrypoint") or []),
        cmd=list(config.get("Cmd") or []),
        env=env,
        workdir=str(config.get("WorkingDir") or ""),
        user=str(config.get("User") or ""),
        exposed_ports=sorted(ports),
    )


@dataclass(frozen=True)
class BuildDir:
    """One build's directory in buildah's area. The builder sees it at ``host`` and buildah at ``view``."""

    host: Path
    view: Path
    user: BuildUser

    def seen_by_buildah(self, name: str) -> str:
        return str(self.view / name)

    def adopt(self, source: Path, name: str) -> Path:
        """Move ``source`` in as ``name``, owned by the build user; returns its new host path."""
        target = self.host / name
        shutil.move(source, target)
        self._give(target)
        return target

    def write_private(self, name: str, content: str) -> None:
        """A file only the build user (and root) can read."""
        fd = os.open(self.host / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as file:
            if not self.user.is_this_process:
                os.fchown(fd, self.user.uid, self.user.gid)
            file.write(content)

    def _give(self, top: Path) -> None:
        if self.user.is_this_process:
            return
        os.lchown(top, self.user.uid, self.user.gid)
        for dirpath, dirnames, filenames in os.walk(top):
            for name in (*dirnames, *filenames):
                os.lchown(os.path.join(dirpath, name), self.user.uid, self.user.gid)


class Buildah:
    def __init__(
        self,
        data_dir: Path,
        storage_driver: str,
        user: str,
        env_passthrough: Sequence[str] = (),
        network: Network | None = None,
    ) -> None:
        self.area = data_dir.absolute() / "buildah"
        self._driver = storage_driver
        self._user_name = user
        self._passthrough = list(env_passthrough)
        self._user: BuildUser | None = None
        self._network = network

    @property
    def user(self) -> BuildUser:
        if self._user is None:
            raise RuntimeError("buildah is used before Buildah.prepared() set up its user and area")
        return self._user

    @property
    def isolated(self) -> bool:
        """Whether builds and pulls run in network namespaces of their own (not on the builder's network)."""
        return self._network is not None

    @property
    def _view(self) -> Path:
        return self.area if self.user.is_this_process else VIEW

    @contextlib.asynccontextmanager
    async def prepared(self) -> AsyncIterator[None]:
        """The build user exists and owns the area; containers left by a builder that died are gone."""
        self._user = await asyncio.to_thread(builduser.resolve, self._user_name)
        await asyncio.to_thread(self._make_area)
        try:
            await self._call("rm", "--all", timeout=120)
        except SandboxError as e:  # no buildah here: only Dockerfile builds and pulls will fail
            log.warning("buildah.unavailable", error=str(e))
        yield

    def _make_area(self) -> None:
        user = self.user
        if self.area.exists() and self.area.stat().st_uid != user.uid:
            # root's storage from before builds were rootless, or a recreated user: a cache, rebuilt
            shutil.rmtree(self.area)
        for path in (self.area, *(self.area / name for name in _DIRS)):
            path.mkdir(mode=0o700, exist_ok=True)
            path.chmod(0o700)
            if not user.is_this_process:
                os.chown(path, user.uid, user.gid)
        for leftover in (self.area / "builds").iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
        if not user.is_this_process:
            VIEW.mkdir(mode=0o700, parents=True, exist_ok=True)  # only a mount point
            os.chown(VIEW, user.uid, user.gid)

    def command(self, *args: str) -> list[str]:
        """The argv of ``buildah <args>``: as the build user and on buildah's area (see the module doc)."""
        buildah = ["buildah", *self._storage_flags(), *args]
        user = self.user
        if user.is_this_process:
            return buildah
        return [
            "unshare", "--mount", "--propagation", "private",
            "--pid", "--fork", "--kill-child", "--mount-proc", "--",
            "sh", "-c", _BIND_THEN_EXEC, "deis-buildah", str(self.area), str(VIEW),
            "setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--init-groups", "--",
            *buildah,
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        """buildah's whole environment: its own dirs in the area, proxies; never the builder's secrets."""
        view = self._view
        env = {key: os.environ[key] for key in self._passthrough if key in os.environ}
        return env | {
            "PATH": _PATH,
            "HOME": str(view / "home"),
            "XDG_RUNTIME_DIR": str(view / "xdg"),
            "TMPDIR": str(view / "tmp"),
        }

    def _storage_flags(self) -> list[str]:
        storage = self._view / self._driver
        return [
            "--root", str(storage / "storage"),
            "--runroot", str(storage / "run"),
            "--storage-driver", self._driver,
        ]  # fmt: skip

    @contextlib.asynccontextmanager
    async def build_dir(self, build_id: str) -> AsyncIterator[BuildDir]:
        """A directory of the build user's for one build, removed afterwards."""
        host = self.area / "builds" / build_id
        await asyncio.to_thread(shutil.rmtree, host, True)
        await asyncio.to_thread(host.mkdir, 0o700)
        if not self.user.is_this_process:
            os.chown(host, self.user.uid, self.user.gid)
        try:
            yield BuildDir(host, self._view / "builds" / build_id, self.user)
        finally:
            await asyncio.to_thread(shutil.rmtree, host, True)

    async def _call(
        self, *args: str, on_line: LineSink | None = None, timeout: float, isolated: bool = False
    ) -> tuple[int, str]:
        command = self.command(*args)
        if not isolated or self._network is None:
            return await run_streaming(command, on_line=on_line, timeout=timeout, env=self.environment())
        # The Dockerfile's RUN steps are the app's code, a pull's registry the app's choice: a network of
        # their own, as for buildpack builds.
        try:
            lease = await self._network.allocate()
        except netns.NetworkError as e:
            raise BuildError(f"the build has no network: {e}") from e
        try:
            return await run_streaming(
                [*lease.enter(), *command], on_line=on_line, timeout=timeout, env=self.environment()
            )
        finally:
            await netns.release(lease)

    async def run(
        self,
        *args: str,
        on_line: LineSink | None = None,
        failure: str | None = None,
        timeout: float = 120,
        isolated: bool = False,
    ) -> str:
        """Run ``buildah <args>`` (``isolated``: in a network namespace of its own); a failure raises
        :class:`BuildError` with ``failure`` (or buildah's own last words) as the reason."""
        code, output = await self._call(*args, on_line=on_line, timeout=timeout, isolated=isolated)
        if code != 0:
            if failure is not None:
                raise BuildError(failure.format(code=code))
            raise BuildError(f"buildah {args[0]} failed: {output.strip()[-300:]}")
        return output

    async def inspect(self, image: str) -> ImageConfig:
        output = await self.run("inspect", "--type", "image", image)
        # rootless buildah may warn (on stderr, merged) before the JSON
        lines = output.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("{")), 0)
        return image_config(json.loads("\n".join(lines[start:])))

    async def export_rootfs(self, image: str, work: BuildDir, name: str) -> int:
        """The image's root filesystem as a gzip tarball of ``/`` at ``work/name``; returns its size."""
        code, output = await self._call(
            "unshare", "--", "sh", "-c", _EXPORT, "export", image, work.seen_by_buildah(name),
            *self._storage_flags(), timeout=600,
        )  # fmt: skip
        if code != 0:
            raise BuildError(f"Cannot export the image's root filesystem: {output.strip()[-300:]}")
        return (await asyncio.to_thread((work.host / name).stat)).st_size

    async def remove(self, image: str) -> None:
        await self._call("rmi", "--force", image, timeout=120)

    async def push(self, image: str, destination: str, *, tls_verify: bool, authfile: str | None) -> None:
        """Push ``image`` (a local name or id) to ``destination`` (``docker://host/name:tag``)."""
        args = ["push", "--quiet", f"--tls-verify={str(tls_verify).lower()}"]
        args += ["--authfile", authfile] if authfile else []
        code, output = await self._call(*args, image, destination, timeout=900)
        if code != 0:
            lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
            reason = lines[-1].removeprefix("Error: ") if lines else f"buildah exited with code {code}"
            raise BuildError(f"Cannot push the image to {destination.removeprefix('docker://')}: {reason}")

    async def pull(self, reference: str, authfile: str | None = None, *, tls_verify: bool = True) -> str:
        """Pull ``reference`` (any transport buildah knows), in the build's network namespace when the
        builder's network is isolated; returns the local image id. Without ``tls_verify`` a registry is also
        reached over plain HTTP."""
        args = ["pull", "--quiet", *(["--authfile", authfile] if authfile else [])]
        if not tls_verify:
            args.append("--tls-verify=false")
        code, output = await self._call(*args, reference, timeout=900, isolated=True)
        lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
        if code != 0 or not lines:
            reason = lines[-1].removeprefix("Error: ") if lines else f"buildah exited with code {code}"
            raise PullError(reference, reason)
        return lines[-1]
