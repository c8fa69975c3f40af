"""Serving git over an SSH channel: ``git-receive-pack`` / ``git-upload-pack`` on the app repositories.

The SSH adapter (:mod:`deis_builder.push.ssh`) authenticates the key and hands over the exec command and a
:class:`Channel`; this module checks the command and the app, takes the per-app push lock and runs real
``git`` with the channel wired to its stdin/stdout/stderr. When the client disconnects mid-push, git
keeps running (its output is discarded) so the build and the ref update still happen.

A fetch (``git-upload-pack``: clone, fetch, ls-remote) needs the same access as a push (owner,
collaborator, admin), asked of the controller before git starts; a push is checked by the pre-receive
hook (:mod:`deis_builder.push.receive`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import structlog

from deis_builder.metrics import BuilderMetrics
from deis_builder.names import InvalidRepo, repo_name
from deis_builder.push.controller import AccessDenied, ControllerError, KeyOwner, UnknownApp
from deis_builder.push.hooks import PushSessions
from deis_builder.push.locks import PushLocks
from deis_builder.push.receive import PushSession, git_gc
from deis_builder.push.repos import Repos

log = structlog.get_logger(__name__)

LOCKED = "Another git push is ongoing"
_COMMAND = re.compile(r"^(git-receive-pack|git-upload-pack|git receive-pack|git upload-pack)\s+(.+)$")


class AccessCheck(Protocol):
    """Returns once the user may use the app; raises AccessDenied, UnknownApp or ControllerError."""

    async def __call__(self, user: str, app: str) -> None: ...


class Channel(Protocol):
    """The client's side of one SSH exec session, as git needs it."""

    async def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; ``b""`` at end of input or once the client is gone."""
        ...

    def write(self, data: bytes) -> None:
        """To the client's stdout; silently dropped once the client is gone."""
        ...

    def write_stderr(self, data: bytes) -> None: ...


def pkt_line(text: str) -> bytes:
    payload = text.encode()
    return f"{len(payload) + 4:04x}".encode() + payload


class GitServer:
    def __init__(
        self,
        repos: Repos,
        locks: PushLocks,
        sessions: PushSessions,
        hook_socket: Path,
        access: AccessCheck,
        metrics: BuilderMetrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._access = access
        self._repos = repos
        self._locks = locks
        self._sessions = sessions
        self._hook_socket = hook_socket

    async def handle(self, command: str, owner: KeyOwner, channel: Channel, peer: str = "") -> int:
        """Serve one exec request; returns the SSH exit status."""
        command = command.replace("$", "").replace("`", "").strip()
        if command == "ping":
            channel.write(b"pong\n")
            return 0
        match = _COMMAND.match(command)
        if match is None:
            channel.write_stderr(b"Only git-receive-pack and git-upload-pack are allowed here.\n")
            return 1
        verb = match.group(1).replace(" ", "-")
        try:
            app = repo_name(match.group(2))
        except InvalidRepo as e:
            channel.write_stderr(f"{e}\n".encode())
            return 1
        if app not in ",".join(owner.apps):
            channel.write_stderr(f"App {app} does not exist or {owner.username} may not use it.\n".encode())
            self._count("refused")
            return 1
        if verb == "git-upload-pack":
            return await self._upload(app, owner, channel)
        return await self._receive(app, owner, channel, command, peer)

    async def _upload(self, app: str, owner: KeyOwner, channel: Channel) -> int:
        try:
            await self._access(owner.username, app)
        except AccessDenied:
            log.info("fetch.refused", app=app, user=owner.username)
            channel.write_stderr(f"Access denied: {owner.username} may not fetch from {app}\n".encode())
            return 1
        except UnknownApp:
            channel.write_stderr(f"App {app} does not exist\n".encode())
            return 1
        except ControllerError as e:
            log.warning("fetch.access_unknown", app=app, user=owner.username, error=str(e))
            channel.write_stderr(f"{e}\n".encode())
            return 1
        if not self._repos.exists(app):
            channel.write_stderr(f"Nothing has been pushed to {app} yet.\n".encode())
            return 1
        await self._run_git(["git-upload-pack", str(self._repos.path(app))], {}, channel)
        return 0

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.pushes.labels(outcome).inc()

    async def _receive(self, app: str, owner: KeyOwner, channel: Channel, command: str, peer: str) -> int:
        lock = self._locks.acquire(app)
        if lock is None:
            channel.write(pkt_line(f"ERR {LOCKED}"))
            self._count("locked")
            return 0
        token = secrets.token_hex(16)
        try:
            repo = await self._repos.ensure(app)
            self._sessions.add(
                PushSession(
                    token=token, app=app, user=owner.username, fingerprint=owner.fingerprint, repo_dir=repo
                )
            )
            env = {
                "RECEIVE_USER": owner.username,
                "RECEIVE_REPO": app,
                "RECEIVE_FINGERPRINT": owner.fingerprint,
                "SSH_ORIGINAL_COMMAND": command,
                "SSH_CONNECTION": peer,
                "DEIS_BUILDER_HOOK_SOCKET": str(self._hook_socket),
                "DEIS_PUSH_TOKEN": token,
            }
            await self._run_git(["git-receive-pack", str(repo)], env, channel)
            await git_gc(repo)
        finally:
            self._sessions.remove(token)
            self._locks.release(app, lock)
        return 0

    async def _run_git(self, argv: list[str], extra_env: dict[str, str], channel: Channel) -> int:
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/"),
            "LANG": "C.UTF-8",
            **extra_env,
        }
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        feeding = asyncio.create_task(_feed(channel, proc.stdin), name="builder:git-stdin")
        try:
            await asyncio.gather(
                _drain(proc.stdout, channel.write), _drain(proc.stderr, channel.write_stderr)
            )
            return await proc.wait()
        finally:
            feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeding
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def _feed(channel: Channel, stdin: asyncio.StreamWriter) -> None:
    try:
        while data := await channel.read(65536):
            stdin.write(data)
            await stdin.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            stdin.close()


async def _drain(stream: asyncio.StreamReader, write: Callable[[bytes], None]) -> None:
    while data := await stream.read(65536):
        write(data)
