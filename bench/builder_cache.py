"""Build cache: the first push of a Python app versus a second push that changes only code.

Starts NATS, Postgres, the controller and the builder in this process, registers a user with an SSH
key, creates an app, and pushes ``tests/builder/apps/python-flask`` twice over real SSH with real git:
first with an empty build cache (virtualenv created, requirements installed), then after a code-only
commit (the cached virtualenv is restored). Prints the build time of both (from ``builds.completed``),
the whole ``git push`` time of both, and the ratios. The scheduler and router are not part of this
measurement: a stand-in routes every release at once so the push can finish.

Target: the second build is at least 5x faster than the first.
Run: ``uv run python -m bench builder_cache`` (env BENCH_ROUNDS: pairs of pushes to average, default 1).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from deis_builder.service import build as build_builder
from deis_builder.settings import Settings
from deis_common.bus import Bus
from deis_common.events.base import Envelope
from deis_common.events.builds import BuildCompleted
from deis_common.events.releases import ReleaseCreated
from deis_common.events.routes import RoutesUpdated
from deis_common.logconfig import configure_logging
from deis_common.settings import HttpSettings, NatsSettings
from deis_common.testing.nats import nats_server
from deis_common.testing.ports import free_port
from deis_common.testing.postgres import create_database, postgres_cluster
from deis_controller.service import build as build_controller
from deis_controller.settings import ControllerSettings, DatabaseSettings

APP = Path(__file__).resolve().parents[1] / "tests" / "builder" / "apps" / "python-flask"
BUILDER_KEY = "bench-builder-key"
GIT_USER = ("-c", "user.email=bench@example.com", "-c", "user.name=Bench")


async def sh(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{out.decode(errors='replace')}")
    return out.decode(errors="replace")


async def api(
    session: aiohttp.ClientSession, url: str, path: str, token: str | None, body: dict[str, Any]
) -> Any:
    headers = {"Authorization": f"token {token}"} if token else {}
    async with session.post(url + path, json=body, headers=headers) as resp:
        if resp.status >= 300:
            raise RuntimeError(f"POST {path}: {resp.status} {await resp.text()}")
        return await resp.json(content_type=None) if resp.content_length != 0 else {}


async def bench(work: Path, nats_url: str, pg_dsn: str, rounds: int) -> None:
    bus = await Bus.connect(NatsSettings(url=nats_url), source="bench")
    await bus.ensure_streams()
    durations: dict[str, float] = {}
    done = asyncio.Queue[str]()

    async def on_completed(_: str, data: bytes) -> None:
        event = Envelope.from_bytes(data).open(BuildCompleted)
        durations[event.build_id] = event.duration_seconds
        await done.put(event.build_id)

    async def route_at_once(_: str, data: bytes) -> None:
        created = Envelope.from_bytes(data).open(ReleaseCreated)
        await bus.publish(RoutesUpdated(app=created.app, generation=created.generation))

    await bus.subscribe_raw(BuildCompleted.subject, on_completed)
    await bus.subscribe_raw(ReleaseCreated.subject, route_at_once)

    controller = build_controller(
        ControllerSettings(
            nats=NatsSettings(url=nats_url),
            http=HttpSettings(host="127.0.0.1", port=0),
            database=DatabaseSettings(url=pg_dsn),
            builder_key=BUILDER_KEY,
            log_json=False,
            log_level="warning",
        )
    )
    ssh_port = free_port()
    async with controller.running(), aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{controller.port}"
        builder = build_builder(
            Settings.model_validate(
                {
                    "nats": {"url": nats_url},
                    "http": {"host": "127.0.0.1", "port": free_port()},
                    "store": {"driver": "fs", "path": str(work / "store")},
                    "controller_url": url,
                    "builder_key": BUILDER_KEY,
                    "log_json": False,
                    "log_level": "warning",
                    "ssh": {"host": "127.0.0.1", "port": ssh_port},
                    "builder": {"data_dir": str(work / "builder")},
                }
            )
        )
        async with builder.running():
            credentials = {"username": "bench", "password": "pw-bench-1"}
            # the first user becomes admin and registers the others (registration is admin_only)
            first = {**credentials, "username": "admin"}
            await api(session, url, "/v2/auth/register/", None, first)
            admin = (await api(session, url, "/v2/auth/login/", None, first))["token"]
            await api(session, url, "/v2/auth/register/", admin, credentials)
            token = (await api(session, url, "/v2/auth/login/", None, credentials))["token"]
            key = work / "id_ed25519"
            await sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
            public = key.with_suffix(".pub").read_text()
            await api(session, url, "/v2/keys/", token, {"id": "bench", "public": public})
            env = {
                **os.environ,
                "GIT_SSH_COMMAND": f"ssh -i {key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no "
                "-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR",
            }
            first_builds: list[float] = []
            second_builds: list[float] = []
            first_pushes: list[float] = []
            second_pushes: list[float] = []
            for round_ in range(rounds):
                app = f"cachebench{round_}"
                await api(session, url, "/v2/apps/", token, {"id": app})
                repo = work / app
                shutil.copytree(APP, repo)
                await sh("git", "init", "-q", "-b", "master", cwd=repo)
                await sh("git", "add", "-A", cwd=repo)
                await sh("git", *GIT_USER, "commit", "-q", "-m", "app", cwd=repo)
                remote = f"ssh://git@127.0.0.1:{ssh_port}/{app}.git"
                plan = ((first_builds, first_pushes, False), (second_builds, second_pushes, True))
                for builds, pushes, change in plan:
                    if change:
                        app_py = repo / "app.py"
                        app_py.write_text(
                            app_py.read_text().replace("Powered by Flask", "Powered by Flask, v2")
                        )
                        await sh("git", *GIT_USER, "commit", "-qam", "code only", cwd=repo)
                    started = time.monotonic()
                    output = await sh("git", "push", remote, "HEAD:refs/heads/master", cwd=repo, env=env)
                    pushes.append(time.monotonic() - started)
                    assert "deployed to Workflow" in output, output
                    builds.append(durations[await asyncio.wait_for(done.get(), 60)])
                    if change:
                        assert "reusing the cached virtualenv" in output, output
    await bus.close()
    first_build, second_build = sum(first_builds) / rounds, sum(second_builds) / rounds
    first_push, second_push = sum(first_pushes) / rounds, sum(second_pushes) / rounds
    print(
        f"python app, first push (empty cache):     build {first_build:6.2f}s   git push {first_push:6.2f}s"
    )
    print(
        f"python app, code-only push (cache hit):   build {second_build:6.2f}s   git push {second_push:6.2f}s"
    )
    print(
        f"speed-up: build {first_build / second_build:.1f}x   git push {first_push / second_push:.1f}x"
        "   (target: build >= 5x)"
    )


def main() -> None:
    configure_logging("warning", json=False)
    rounds = int(os.environ.get("BENCH_ROUNDS", "1"))
    with tempfile.TemporaryDirectory(prefix="deis-bench-builder-") as tmp:
        work = Path(tmp)
        with nats_server(work / "nats") as nats, postgres_cluster() as cluster:
            dsn = asyncio.run(create_database(cluster))
            asyncio.run(bench(work, nats.url, dsn, rounds))


if __name__ == "__main__":
    main()
