"""Helpers for builder tests: real SSH keys, real git pushes, a builder and a controller running
in-process, users and apps made through the controller's API."""

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

from deis_builder.settings import Settings
from deis_common.bus import Bus
from deis_common.events.deploys import DeployFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.events.routes import RoutesUpdated
from deis_common.testing.ports import free_port
from deis_common.testing.reacting import reacting

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
class Accounts:
    """Users, keys, apps and config set up through the real controller's API, as a user would."""

    api: Any  # tests.controller.harness.RunningController
    tokens: dict[str, str] = field(default_factory=dict)

    async def user(self, username: str, key: SshKey | None = None) -> str:
        """Register ``username``: the first user registers alone and becomes admin, who registers the
        later ones (registration is admin_only)."""
        admin = next(iter(self.tokens.values()), None)
        token = await self.api.register(username, by=admin)
        self.tokens[username] = token
        if key is not None:
            r = await self.api.call(
                "POST", "/v2/keys/", token, json={"id": f"{username}@test", "public": key.public_line}
            )
            assert r.status == 201, r.text
        return token

    async def app(self, owner: str, app: str, **config: str) -> None:
        r = await self.api.call("POST", "/v2/apps/", self.tokens[owner], json={"id": app})
        assert r.status == 201, r.text
        if config:
            await self.config(owner, app, **config)

    async def config(self, user: str, app: str, **values: str) -> None:
        r = await self.api.call("POST", f"/v2/apps/{app}/config/", self.tokens[user], json={"values": values})
        assert r.status == 201, r.text


@asynccontextmanager
async def routing_stand_in(bus: Bus) -> AsyncIterator[dict[str, str]]:
    """Plays the scheduler and router-sync (other services): every release is routed at once, except
    that releases of a push to an app in the yielded map (app -> reason) fail to deploy."""
    failing: dict[str, str] = {}

    async def on_release(created: ReleaseCreated) -> None:
        if created.app in failing and created.build_id:
            failed = DeployFailed(
                app=created.app,
                generation=created.generation,
                version=created.version,
                reason=failing[created.app],
            )
            await bus.publish(failed)
        else:
            await bus.publish(RoutesUpdated(app=created.app, generation=created.generation))

    async with reacting(bus, ReleaseCreated, to=on_release):
        yield failing


async def buildpack_url(fixture: str, work: Path, ref: str | None = None) -> str:
    """A local git repository of ``tests/builder/apps/<fixture>`` as a BUILDPACK_URL (``file://…[#ref]``)."""
    path = work / f"{fixture}.git-src"
    await asyncio.to_thread(shutil.copytree, APPS / fixture, path, symlinks=True)
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "user.email", "dev@example.com"),
        ("config", "user.name", "Dev"),
        ("add", "-A"),
        ("commit", "-q", "-m", "buildpack"),
        *((("branch", ref),) if ref else ()),
    ):
        code, out = await run("git", *args, cwd=path)
        assert code == 0, out
    return f"file://{path}" + (f"#{ref}" if ref else "")


class BuildLines:
    """Every build log line on the bus, to wait for a build to reach a point (no sleeping)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self._changed = asyncio.Condition()
        self._sub: Any = None

    async def start(self, bus: Bus) -> None:
        async def on_line(subject: str, data: bytes) -> None:
            async with self._changed:
                self.lines.append((subject.rsplit(".", 1)[-1], data.decode(errors="replace")))
                self._changed.notify_all()

        self._sub = await bus.subscribe_raw("deis.v1.builds.log.*", on_line)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()

    def builds_with(self, text: str) -> set[str]:
        return {build_id for build_id, line in self.lines if text in line}

    async def wait_for(self, text: str, *, builds: int = 1, timeout: float = 60.0) -> set[str]:
        """The ids of the builds that printed ``text``, once at least ``builds`` of them have."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.builds_with(text)) >= builds), timeout
            )
        return self.builds_with(text)


def open_gate(data_dir: Path, build_id: str) -> None:
    """Let a build of the ``buildpack-gated`` buildpack finish (it waits for CACHE_DIR/gate)."""
    (data_dir / "builds" / build_id / "cache" / "gate").write_text("open")
