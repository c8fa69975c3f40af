"""Running build steps inside a bubblewrap sandbox.

A build sees the host's ``/usr`` (and the ``/bin``, ``/lib``, ``/lib64`` links) read-only, a few more
read-only host paths from settings (CA certificates, resolver config, package mirrors), a private
``/tmp``, and exactly the directories the caller mounts (the app at ``/app``). Each step gets a network
namespace of its own (:mod:`deis_common.netns`) that reaches the package registries and the rest of the
outside world, but nothing on this host (NATS, PostgreSQL, the services, other apps). Its environment is
cleared and set from the caller's map only, so no builder secret reaches a buildpack. Output (stdout and
stderr merged) is handed over line by line.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from deis_builder.build import builduser
from deis_builder.build.builduser import BuildUser
from deis_builder.build.limits import Cage, MemoryLimit
from deis_builder.errors import SandboxError
from deis_builder.process import LineSink, run_streaming
from deis_common import netns

BUILD_UID = 2000
_ROOT_LINKS = ("/bin", "/lib", "/lib64", "/sbin")


@dataclass(frozen=True)
class Mount:
    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Network:
    """Where build steps get their network namespaces: leases recorded as ``owner``'s, from ``cidr``."""

    owner: str
    cidr: str = netns.DEFAULT_CIDR

    async def allocate(self) -> netns.Lease:
        return await netns.allocate(self.owner, self.cidr)


class Sandbox:
    def __init__(
        self,
        ro_paths: Sequence[str] = (),
        *,
        bwrap: str = "bwrap",
        memory: MemoryLimit | None = None,
        network: Network | None = None,
        user: str | None = None,
    ) -> None:
        self._ro_paths = [p for p in ro_paths if os.path.exists(p)]
        self._bwrap = bwrap
        self._memory = memory or MemoryLimit(None)
        self._network = network
        self._lease: netns.Lease | None = None
        self._cage: Cage | None = None
        self._in_session = False
        self._user_name = user
        self._user: BuildUser | None = None

    async def build_user(self) -> BuildUser | None:
        """Who steps run as on the host when the builder is root (never root itself); None: the builder."""
        if self._user_name is None or os.geteuid() != 0:
            return None
        if self._user is None:
            self._user = await asyncio.to_thread(builduser.resolve, self._user_name)
        return self._user

    @contextlib.asynccontextmanager
    async def session(self, owned: Sequence[Path] = ()) -> AsyncIterator[Sandbox]:
        """This sandbox for one build: one network and one memory cgroup for all its steps (made once, not
        per step: each costs tens of milliseconds), and ``owned`` (the app, the cache) handed to the build
        user, who must write them."""
        user = await self.build_user()
        if user is not None:
            await asyncio.to_thread(_hand_over, owned, user)
        shared = copy.copy(self)
        shared._in_session = True
        async with self._memory.cage() as cage:
            shared._cage = cage
            if self._network is None:
                yield shared
                return
            try:
                shared._lease = await self._network.allocate()
            except netns.NetworkError as e:
                raise SandboxError(f"the build sandbox has no network: {e}") from e
            try:
                yield shared
            finally:
                await netns.release(shared._lease)

    def command(
        self, argv: Sequence[str], mounts: Sequence[Mount], env: dict[str, str], *, cwd: str = "/app"
    ) -> list[str]:
        user = self._user if self._user_name is not None and os.geteuid() == 0 else None
        if user is None:
            return self._bwrap_command(argv, mounts, env, cwd=cwd)
        # As root: bind each mount where the build user can reach it (the data dir is private), in a mount
        # namespace of the step's own, then drop to the build user before bubblewrap starts.
        staged, binds = [], []
        for index, mount in enumerate(mounts):
            stage = _stage(index, mount.source.is_dir())
            staged.append(Mount(stage, mount.target, mount.writable))
            binds += [str(mount.source), str(stage)]
        drop = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups", "--"]
        return [
            "unshare", "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", _BIND_ALL, "deis-build-step", str(len(mounts)), *binds,
            *drop, *self._bwrap_command(argv, staged, env, cwd=cwd),
        ]  # fmt: skip

    def _bwrap_command(
        self, argv: Sequence[str], mounts: Sequence[Mount], env: dict[str, str], *, cwd: str
    ) -> list[str]:
        cmd = [self._bwrap, "--ro-bind", "/usr", "/usr"]
        for link in _ROOT_LINKS:
            if os.path.islink(link):
                cmd += ["--symlink", os.readlink(link), link]
            elif os.path.isdir(link):
                cmd += ["--ro-bind", link, link]
        for path in self._ro_paths:
            cmd += ["--ro-bind", path, path]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for mount in mounts:
            cmd += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.target]
        cmd += [
            # An unprivileged user (uid 2000, as slugbuilder's "slug" user) without capabilities.
            "--unshare-user",
            "--uid",
            str(BUILD_UID),
            "--gid",
            str(BUILD_UID),
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--hostname",
            "build",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--chdir",
            cwd,
        ]
        for key, value in env.items():
            cmd += ["--setenv", key, value]
        return [*cmd, "--", *argv]

    async def run(
        self,
        argv: Sequence[str],
        mounts: Sequence[Mount],
        env: dict[str, str],
        *,
        on_line: LineSink | None = None,
        cwd: str = "/app",
        timeout: float | None = None,
    ) -> tuple[int, str]:
        """Run ``argv`` in the sandbox; returns the exit code and the whole output. A step stopped for
        using more memory than the build limit says so in its last output line."""
        if not self._in_session:
            async with self.session() as alone:  # a step on its own
                return await alone.run(argv, mounts, env, on_line=on_line, cwd=cwd, timeout=timeout)
        await self.build_user()
        cmd = self.command(argv, mounts, env, cwd=cwd)
        enter = self._lease.enter() if self._lease is not None else []
        return await self._run_caged([*enter, *cmd], on_line=on_line, timeout=timeout)

    async def _run_caged(
        self, cmd: list[str], *, on_line: LineSink | None, timeout: float | None
    ) -> tuple[int, str]:
        cage = self._cage
        if cage is None:
            return await run_streaming(cmd, on_line=on_line, timeout=timeout)
        kills = await asyncio.to_thread(cage.oom_kills)
        code, output = await run_streaming(cage.wrap(cmd), on_line=on_line, timeout=timeout)
        if code != 0 and await asyncio.to_thread(cage.out_of_memory, kills):
            mib = (self._memory.limit or 0) // 1024**2
            line = f" !     The build used more than its memory limit ({mib} MiB) and was stopped"
            if on_line is not None:
                await on_line(line)
            output += "\n" + line
        return code, output


# Mount points only (empty), where a step's private mount namespace binds what the build user must reach.
STAGE = Path("/run/deis-build-stage")
_BIND_ALL = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do '
    'mount --bind -- "$1" "$2" || exit 125; shift 2; n=$((n - 1)); '
    'done; exec "$@"'
)


def _stage(index: int, directory: bool) -> Path:
    path = STAGE / f"{'d' if directory else 'f'}{index}"
    if not path.exists():
        STAGE.mkdir(mode=0o755, parents=True, exist_ok=True)
        if directory:
            path.mkdir(mode=0o755, exist_ok=True)
        else:
            path.touch(mode=0o644, exist_ok=True)
    return path


def _hand_over(paths: Sequence[Path], user: BuildUser) -> None:
    """``paths`` and everything under them owned by the build user (a checkout and cache made as root)."""
    for top in paths:
        if not top.exists():
            continue
        os.lchown(top, user.uid, user.gid)
        for dirpath, dirnames, filenames in os.walk(top):
            for name in (*dirnames, *filenames):
                os.lchown(os.path.join(dirpath, name), user.uid, user.gid)
