"""The asyncssh server: public-key auth against the controller, exec sessions handed to git.

Only public-key auth is offered; each offered key's MD5 colon fingerprint is looked up through the
controller's key hook, and the owner is kept on the connection. Only exec requests are served (shells,
subsystems and forwarding are refused); env requests are accepted and ignored. A session's work runs in
a task owned by this server and shielded from the connection: a client that disconnects mid-push does
not stop the build.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncssh
import structlog

from deis_builder.push.controller import ControllerError, KeyOwner
from deis_builder.push.gitserve import GitServer
from deis_builder.push.ssh.hostkeys import load_host_keys

log = structlog.get_logger(__name__)

KeyLookup = Callable[[str], Awaitable[KeyOwner | None]]
OWNER = "deis_key_owner"
CIPHERS = ("aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com")


def md5_fingerprint(public_blob: bytes) -> str:
    """MD5 of the raw public-key blob as colon-separated lowercase hex pairs (spec §2.2)."""
    digest = hashlib.md5(public_blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


class _Connection(asyncssh.SSHServer):
    def __init__(self, lookup: KeyLookup) -> None:
        self._lookup = lookup
        self._conn: asyncssh.SSHServerConnection | None = None
        self._owners: dict[str, KeyOwner | None] = {}

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        fingerprint = md5_fingerprint(key.public_data)
        if fingerprint not in self._owners:
            try:
                self._owners[fingerprint] = await self._lookup(fingerprint)
            except ControllerError as e:
                log.warning("ssh.key_lookup_failed", error=str(e))
                return False
        owner = self._owners[fingerprint]
        if owner is None:
            log.info("ssh.unknown_key", fingerprint=fingerprint)
            return False
        assert self._conn is not None
        self._conn.set_extra_info(**{OWNER: owner})
        return True


class _ProcessChannel:
    """A :class:`deis_builder.push.gitserve.Channel` over an asyncssh server process."""

    def __init__(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        self._process = process
        self._gone = False

    async def read(self, size: int) -> bytes:
        if self._gone:
            return b""
        try:
            return await self._process.stdin.read(size)
        except (asyncssh.Error, ConnectionError, OSError):
            self._gone = True
            return b""

    def write(self, data: bytes) -> None:
        self._send(self._process.stdout, data)

    def write_stderr(self, data: bytes) -> None:
        self._send(self._process.stderr, data)

    def _send(self, stream: asyncssh.SSHWriter[bytes], data: bytes) -> None:
        if self._gone:
            return
        try:
            stream.write(data)
        except (asyncssh.Error, ConnectionError, OSError):
            self._gone = True


class SshServer:
    def __init__(self, host: str, port: int, host_key_dir: Path, lookup: KeyLookup, git: GitServer) -> None:
        self.host = host
        self.port = port
        self._host_key_dir = host_key_dir
        self._lookup = lookup
        self._git = git
        self._sessions: set[asyncio.Task[int]] = set()
        self._server: asyncssh.SSHAcceptor | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[SshServer]:
        # asyncssh logs every connection at INFO through stdlib logging; our own lines say what matters.
        logging.getLogger("asyncssh").setLevel(logging.WARNING)
        keys = await asyncio.to_thread(load_host_keys, self._host_key_dir)
        self._server = await asyncssh.create_server(
            lambda: _Connection(self._lookup),
            self.host,
            self.port,
            server_host_keys=keys,
            process_factory=self._process,
            encoding=None,
            encryption_algs=list(CIPHERS),
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            keepalive_interval=30,
        )
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]
        log.info("ssh.listening", host=self.host, port=self.port)
        try:
            yield self
        finally:
            self._server.close()
            await self._server.wait_closed()
            for task in list(self._sessions):
                task.cancel()
            await asyncio.gather(*self._sessions, return_exceptions=True)

    @property
    def serving(self) -> bool:
        return self._server is not None and bool(self._server.sockets)

    async def _process(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        owner = process.get_extra_info(OWNER)
        command = process.command
        if owner is None or command is None:
            process.stderr.write(b"Interactive shells are not available; push with git.\n")
            process.exit(1)
            return
        peer = process.get_extra_info("peername") or ("", 0)
        local = process.get_extra_info("sockname") or ("", 0)
        connection = f"{peer[0]} {peer[1]} {local[0]} {local[1]}"
        channel = _ProcessChannel(process)
        task = asyncio.create_task(
            self._git.handle(command, owner, channel, connection), name="builder:ssh-session"
        )
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)
        status = 1
        try:
            status = await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ssh.session_failed", command=command)
        with contextlib.suppress(asyncssh.Error, ConnectionError, OSError):
            process.exit(status)
