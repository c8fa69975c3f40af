"""The bubblewrap command line that isolates one app process.

A sandbox sees: its release read-only at ``/app`` (buildpack slugs) or its image root filesystem
read-only at ``/`` (Dockerfile and ``deis pull`` images; private scratch space on ``/run`` and
``/var/{tmp,cache,log}``); ``/usr`` and the ``/bin``, ``/lib``, ``/lib64``, ``/sbin`` links read-only
(slugs only); a few harmless files of ``/etc`` (CA certificates, resolver, time zone); a private ``/tmp``,
``/proc`` and ``/dev``. Nothing else of the host: no other app, not the platform's data dir.
It gets its own user, pid, ipc and uts namespaces, and (when the scheduler runs as root) the network
namespace of its lease (:mod:`deis_common.netns`): its own address and loopback, no way to the host's.

When the scheduler runs as root, the process also runs as an unprivileged uid outside the sandbox: a private
mount namespace first binds the release onto a path that uid can reach (the platform's data dir is not), then
``setpriv`` drops to that uid before bubblewrap starts.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from deis_common.netns import Lease

# Host files an app may need for TLS, DNS and time; nothing secret.
ETC_FILES = (
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/alternatives",
    "/etc/mime.types",
)
IMAGE_SCRATCH = ("run", "var/run", "var/tmp", "var/cache", "var/log")
SANDBOX_UID = 1000
# Where the release is bound in the private mount namespace: reachable by the sandbox uid, and (unlike /tmp)
# never an ancestor of the data dir, whose files the bind must still see.
STAGE = "/run/deis-sandbox/root"


class SandboxError(RuntimeError):
    """bubblewrap (or the tools around it) is missing."""


@dataclass(frozen=True)
class Sandbox:
    root: Path
    """The unpacked slug (mounted at /app) or image root filesystem (mounted at /)."""
    image: bool
    workdir: str
    hostname: str
    run_as: int | None
    """Unprivileged uid outside the sandbox (requires root); None runs as the scheduler's own uid."""
    network: Lease | None = None
    """The network namespace the sandbox joins (requires root); None shares the scheduler's network."""

    def argv(self, command: list[str]) -> list[str]:
        enter = self.network.enter() if self.network is not None else []
        bwrap = _tool("bwrap")
        if self.run_as is None:
            return [*enter, bwrap, *self._bwrap_args(str(self.root)), "--", *command]
        _ensure_stage()
        # Bind the release where the unprivileged uid can reach it, privately, then drop privileges.
        script = 'mount --bind "$2" "$1" && shift 2 && exec "$@"'
        drop = [_tool("setpriv"), f"--reuid={self.run_as}", f"--regid={self.run_as}", "--clear-groups", "--"]
        return [
            *enter, _tool("unshare"), "--mount", "--propagation", "private", "--",
            "/bin/sh", "-c", script, "deis-sandbox", STAGE, str(self.root),
            *drop, bwrap, *self._bwrap_args(STAGE), "--", *command,
        ]  # fmt: skip

    def _bwrap_args(self, source: str) -> list[str]:
        args = [
            "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", self.hostname[:63],
            # The parent is the shim, not the scheduler: the sandbox ends with its supervisor, never orphaned.
            "--die-with-parent",
        ]  # fmt: skip
        if self.image:
            args += ["--ro-bind", source, "/"]
            # The image is read-only; the places programs expect to write get private scratch space.
            for scratch in IMAGE_SCRATCH:
                inside = self.root / scratch
                if inside.is_dir() and not inside.is_symlink():
                    args += ["--tmpfs", f"/{scratch}"]
        else:
            args += ["--ro-bind", "/usr", "/usr"]
            for link in ("bin", "lib", "lib64", "sbin"):
                if os.path.islink(f"/{link}"):
                    args += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
                elif os.path.isdir(f"/{link}"):
                    args += ["--ro-bind", f"/{link}", f"/{link}"]
            for etc in ETC_FILES:
                args += ["--ro-bind-try", etc, etc]
            args += ["--ro-bind", source, "/app"]
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", self.workdir or "/"]
        return args


def _ensure_stage() -> None:
    if not os.path.isdir(STAGE):
        os.makedirs(STAGE, mode=0o755, exist_ok=True)
        os.chmod(os.path.dirname(STAGE), 0o755)


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        raise SandboxError(f"{name} is not installed; the local backend needs bubblewrap and util-linux")
    return path


def unprivileged_uid(configured: int) -> int | None:
    """The uid app processes run as: ``configured`` when we may switch to it (running as root)."""
    return configured if os.geteuid() == 0 else None
