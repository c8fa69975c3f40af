"""Helpers for builder tests: real SSH keys, real git pushes, a builder running in-process, and a
minimal stand-in for the controller's builder hooks (used until the real controller is wired in)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from deis_builder.settings import Settings
from deis_common.bus import Bus
from deis_common.events.base import Envelope
from deis_common.events.builds import BuildCompleted
from deis_common.events.releases import ReleaseCreated, ReleaseDeployed
from deis_common.events.state import AppState
from deis_common.testing.ports import free_port

APPS = Path(__file__).parent / "apps"
BUILDER_KEY = "test-builder-key"


@dataclass(frozen=True)
class SshKey:
    private: Path
    public_line: str

    @property
    def fingerprint(self) -> str:
        blob = base64.b64decode(self.public_line.split()[1])
        digest = hashlib.md5(blob).hexdigest()
        return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


async def run(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")


async def make_key(directory: Path, name: str = "id_ed25519") -> SshKey:
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    path = directory / name
    code, out = await run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path))
    assert code == 0, out
    return SshKey(private=path, public_line=path.with_suffix(".pub").read_text().strip())


@dataclass
class GitRepo:
    """A working copy pushed to the builder the way a user does it."""

    path: Path
    ssh_port: int
    key: SshKey

    def env(self) -> dict[str, str]:
        import os

        ssh = (
            f"ssh -i {self.key.private} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no "
            f"-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
        )
        return {**os.environ, "GIT_SSH_COMMAND": ssh, "GIT_TERMINAL_PROMPT": "0"}

    def remote(self, app: str) -> str:
        return f"ssh://git@127.0.0.1:{self.ssh_port}/{app}.git"

    async def git(self, *args: str) -> tuple[int, str]:
        return await run("git", *args, cwd=self.path, env=self.env())

    async def push(self, app: str, refspec: str = "HEAD:refs/heads/master") -> tuple[int, str]:
        return await self.git("push", self.remote(app), refspec)

    async def commit(self, message: str) -> str:
        code, out = await self.git("add", "-A")
        assert code == 0, out
        code, out = await self.git("commit", "-q", "--allow-empty", "-m", message)
        assert code == 0, out
        code, out = await self.git("rev-parse", "HEAD")
        return out.strip()

    async def head(self) -> str:
        return (await self.git("rev-parse", "HEAD"))[1].strip()


async def app_repo(fixture: str, work: Path, ssh_port: int, key: SshKey) -> GitRepo:
    """A fresh git working copy of ``tests/builder/apps/<fixture>`` with one commit."""
    path = work / fixture
    shutil.copytree(APPS / fixture, path, symlinks=True)
    repo = GitRepo(path=path, ssh_port=ssh_port, key=key)
    for args in (
        ("init", "-q", "-b", "master"),
        ("config", "user.email", "dev@example.com"),
        ("config", "user.name", "Dev"),
    ):
        code, out = await repo.git(*args)
        assert code == 0, out
    await repo.commit("first")
    return repo


def builder_settings(
    *, nats_url: str, data_dir: Path, store_dir: Path, controller_url: str, ssh_port: int, **builder: Any
) -> Settings:
    return Settings.model_validate(
        {
            "nats": {"url": nats_url},
            "http": {"host": "127.0.0.1", "port": free_port()},
            "store": {"driver": "fs", "path": str(store_dir)},
            "controller_url": controller_url,
            "builder_key": BUILDER_KEY,
            "log_json": False,
            "grace_period": 5.0,
            "ssh": {"host": "127.0.0.1", "port": ssh_port},
            "builder": {"data_dir": str(data_dir), **builder},
        }
    )


@dataclass
class StandInController:
    """Answers the two builder hooks from in-memory users, keys, apps and config, and plays the
    controller's part of the deploy chain (release on BuildCompleted, deployed right away)."""

    keys: dict[str, str] = field(default_factory=dict)  # fingerprint -> username
    apps: dict[str, set[str]] = field(default_factory=dict)  # app -> users allowed
    config: dict[str, dict[str, str]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    url: str = ""

    def add_user(self, username: str, key: SshKey) -> None:
        self.keys[key.fingerprint] = username

    def add_app(self, app: str, *users: str, **config: str) -> None:
        self.apps[app] = set(users)
        self.config[app] = dict(config)
        self.versions[app] = 1

    async def _key(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Deis-Builder-Auth") != BUILDER_KEY:
            return web.json_response({"detail": "bad builder key"}, status=401)
        user = self.keys.get(request.match_info["fingerprint"])
        if user is None:
            return web.json_response({"detail": "Not found."}, status=404)
        return web.json_response({"username": user, "apps": sorted(self.apps)})

    async def _config(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Deis-Builder-Auth") != BUILDER_KEY:
            return web.json_response({"detail": "bad builder key"}, status=401)
        body = await request.json()
        app = body["receive_repo"]
        if app not in self.apps:
            return web.json_response({"detail": "Not found."}, status=404)
        if body["receive_user"] not in self.apps[app]:
            return web.json_response({"detail": "forbidden"}, status=403)
        return web.json_response({"app": app, "values": self.config[app]})

    async def _release(self, bus: Bus, data: bytes) -> None:
        completed = Envelope.from_bytes(data).open(BuildCompleted)
        version = self.versions[completed.app] = self.versions.get(completed.app, 1) + 1
        state = AppState(app=completed.app, generation=version, version=version, build=completed.artifact)
        await bus.publish(
            ReleaseCreated(
                app=completed.app,
                version=version,
                generation=version,
                build_id=completed.build_id,
                state=state,
            )
        )
        await bus.publish(ReleaseDeployed(app=completed.app, version=version, generation=version))

    @asynccontextmanager
    async def running(self, bus: Bus) -> AsyncIterator[StandInController]:
        app = web.Application()
        app.router.add_get("/v2/hooks/key/{fingerprint}", self._key)
        app.router.add_post("/v2/hooks/config", self._config)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"

        async def on_completed(_: str, data: bytes) -> None:
            await self._release(bus, data)

        sub = await bus.subscribe_raw(BuildCompleted.subject, on_completed)
        try:
            yield self
        finally:
            await sub.unsubscribe()
            await runner.cleanup()
