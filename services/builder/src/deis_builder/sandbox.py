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
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deis_builder.limits import MemoryLimit
from deis_common import netns
from deis_common.errors import DeisError

LineSink = Callable[[str], Awaitable[None]]

BUILD_UID = 2000
_ROOT_LINKS = ("/bin", "/lib", "/lib64", "/sbin")


class SandboxError(DeisError):
    """The sandbox itself could not run (bubblewrap missing or refused)."""


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
    ) -> None:
        self._ro_paths = [p for p in ro_paths if os.path.exists(p)]
        self._bwrap = bwrap
        self._memory = memory or MemoryLimit(None)
        self._network = network
        self._lease: netns.Lease | None = None

    @contextlib.asynccontextmanager
    async def shared_network(self) -> AsyncIterator[Sandbox]:
        """This sandbox with one network for every step run through it (one build's steps)."""
        if self._network is None:
            yield self
            return
        try:
            lease = await self._network.allocate()
        except netns.NetworkError as e:
            raise SandboxError(f"the build sandbox has no network: {e}") from e
        shared = copy.copy(self)
        shared._lease = lease
        try:
            yield shared
        finally:
            await netns.release(lease)

    def command(
        self, argv: Sequence[str], mounts: Sequence[Mount], env: dict[str, str], *, cwd: str = "/app"
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
        cmd = self.command(argv, mounts, env, cwd=cwd)
        if self._lease is not None or self._network is None:
            enter = self._lease.enter() if self._lease is not None else []
            return await self._run_caged([*enter, *cmd], on_line=on_line, timeout=timeout)
        async with self.shared_network() as alone:
            return await alone.run(argv, mounts, env, on_line=on_line, cwd=cwd, timeout=timeout)

    async def _run_caged(
        self, cmd: list[str], *, on_line: LineSink | None, timeout: float | None
    ) -> tuple[int, str]:
        async with self._memory.cage() as cage:
            if cage is None:
                return await run_streaming(cmd, on_line=on_line, timeout=timeout)
            code, output = await run_streaming(cage.wrap(cmd), on_line=on_line, timeout=timeout)
            if code != 0 and cage.out_of_memory():
                mib = (self._memory.limit or 0) // 1024**2
                line = f" !     The build used more than its memory limit ({mib} MiB) and was stopped"
                if on_line is not None:
                    await on_line(line)
                output += "\n" + line
            return code, output


async def run_streaming(
    cmd: Sequence[str],
    *,
    on_line: LineSink | None = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[int, str]:
    """Run a command, feeding each output line to ``on_line``; kill its process group on timeout/cancel."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )
    except OSError as e:
        raise SandboxError(f"cannot run {cmd[0]}: {e}") from e
    output: list[str] = []

    async def pump() -> None:
        assert proc.stdout is not None
        pending = b""
        while chunk := await proc.stdout.read(65536):
            pending += chunk
            # A carriage return ends a progress line as well (pip, npm, buildah redraw lines).
            *lines, pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            for raw in lines:
                text = raw.decode(errors="replace")
                output.append(text)
                if on_line is not None:
                    await on_line(text)
        if pending:
            text = pending.decode(errors="replace")
            output.append(text)
            if on_line is not None:
                await on_line(text)

    try:
        await asyncio.wait_for(pump(), timeout)
        code = await proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()
        raise
    return code, "\n".join(output)
