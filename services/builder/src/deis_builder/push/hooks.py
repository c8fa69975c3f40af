"""The builder's end of the pre-receive hook: a unix socket in the data dir.

:mod:`deis_builder.push.hookclient` connects with a push token; the token names the running
``git-receive-pack`` session (app, user, key) that :mod:`deis_builder.push.gitserve` registered, so only
pushes that came in over SSH can trigger builds. The verdict goes back as ``{"exit": n}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import structlog

from deis_builder.push.receive import PushSession, Receiver, RefUpdate

log = structlog.get_logger(__name__)


class SocketOutput:
    """Lines for the hook process; a vanished hook does not stop the push."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._gone = False

    async def _send(self, message: dict[str, object]) -> None:
        if self._gone:
            return
        try:
            self._writer.write(json.dumps(message).encode() + b"\n")
            await self._writer.drain()
        except (ConnectionError, OSError):
            self._gone = True

    async def info(self, text: str) -> None:
        await self._send({"fd": 1, "line": text})

    async def error(self, text: str) -> None:
        await self._send({"fd": 2, "line": text})

    async def exit(self, code: int) -> None:
        await self._send({"exit": code})


class PushSessions:
    """Running receive-pack sessions by token."""

    def __init__(self) -> None:
        self._sessions: dict[str, PushSession] = {}

    def add(self, session: PushSession) -> None:
        self._sessions[session.token] = session

    def remove(self, token: str) -> None:
        self._sessions.pop(token, None)

    def get(self, token: str) -> PushSession | None:
        return self._sessions.get(token)


class HookServer:
    def __init__(self, socket_path: Path, sessions: PushSessions, receiver: Receiver) -> None:
        self.socket_path = socket_path
        self._sessions = sessions
        self._receiver = receiver
        self._tasks: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HookServer]:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        server = await asyncio.start_unix_server(self._accept, path=str(self.socket_path))
        self.socket_path.chmod(0o600)
        try:
            yield self
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()
            self.socket_path.unlink(missing_ok=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The push runs in its own task so that a hook process that dies cannot cancel it half way.
        task = asyncio.create_task(self._serve(reader, writer), name="builder:hook")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.shield(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        out = SocketOutput(writer)
        try:
            try:
                request = json.loads(await reader.readline())
                session = self._sessions.get(str(request["token"]))
                updates = [RefUpdate(*map(str, u)) for u in request["updates"] if len(u) == 3]
                git_env = {str(k): str(v) for k, v in dict(request.get("env") or {}).items()}
            except (ValueError, KeyError, TypeError):
                session = None
            if session is None:
                await out.error("This push did not come through the builder's SSH server.")
                await out.exit(1)
                return
            try:
                code = await self._receiver.receive(session, updates, git_env, out)
            except Exception as e:
                log.exception("push.crashed", app=session.app)
                await out.info(f"The builder failed: {e}")
                code = 1
            await out.exit(code)
        finally:
            with contextlib.suppress(Exception):
                writer.close()
