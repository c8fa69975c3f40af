"""Fixtures for driving the installed ``deis`` command the way a user does.

``deis`` runs the console script in a subprocess with HOME and DEIS_PROFILE_DIR pointing into the
test's tmp dir, so no test touches the real ~/.deis. It is async because the controller under test
runs in-process on the test's event loop; a blocking subprocess call would starve it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

DEIS = str(Path(sys.executable).parent / "deis")

# Other teams' in-process harnesses (tests/controller/harness.py, tests/builder/builder_harness.py)
# are imported as ``tests.<package>.<module>`` from the repository root.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# The embedded Postgres wheel asks platformdirs for a runtime dir on import, which warns (an error
# under our pytest settings) when the session has no XDG_RUNTIME_DIR.
if not os.environ.get("XDG_RUNTIME_DIR"):
    _runtime = Path(f"/tmp/deis-cli-tests-runtime-{os.getuid()}")
    _runtime.mkdir(mode=0o700, exist_ok=True)
    _runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime)


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def __str__(self) -> str:
        command = " ".join(self.args)
        return f"deis {command} -> {self.returncode}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"


@dataclass
class Workspace:
    home: Path
    env: dict[str, str]
    cwd: Path

    @property
    def profile_dir(self) -> Path:
        return self.home / ".deis"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    home = tmp_path / "home"
    home.mkdir()
    cwd = tmp_path / "work"
    cwd.mkdir()
    # No proxy may sit between the CLI and the test controller; bytecode caching stays on because the
    # CLI under test starts hundreds of times per run.
    dropped = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEIS_") and k not in dropped}
    env.update(
        HOME=str(home),
        DEIS_PROFILE_DIR=str(home / ".deis"),
        NO_PROXY="*",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return Workspace(home=home, env=env, cwd=cwd)


Runner = Callable[..., Awaitable[Result]]


@pytest.fixture
def deis(workspace: Workspace) -> Runner:
    async def run(
        *args: str,
        input: str | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Result:
        proc = await asyncio.create_subprocess_exec(
            DEIS,
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(cwd or workspace.cwd),
            env={**workspace.env, **(env or {})},
        )
        out, err = await asyncio.wait_for(
            proc.communicate(input.encode() if input is not None else None), timeout
        )
        assert proc.returncode is not None
        return Result(args, proc.returncode, out.decode(), err.decode())

    return run


def git(workspace: Workspace, *args: str, cwd: Path | None = None) -> str:
    import subprocess

    proc = subprocess.run(
        ["git", *args],
        cwd=cwd or workspace.cwd,
        env=workspace.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


PASSWORD = "s3cret-pass"


@pytest_asyncio.fixture
async def controller(pg_dsn: str, nats_url: str) -> AsyncIterator[Any]:
    from tests.controller.harness import running_controller

    async with running_controller(pg_dsn, nats_url) as ctl:
        yield ctl


@pytest_asyncio.fixture
async def admin(controller: Any, deis: Runner) -> str:
    """The first user, registered and logged in through the CLI (so the default profile is theirs)."""
    result = await deis(
        "register", controller.url, "--username=admin", f"--password={PASSWORD}", "--email=admin@example.com"
    )
    assert result.ok, result
    return "admin"


async def register(
    deis: Runner, controller: Any, username: str, *, profile: str | None = None
) -> dict[str, str]:
    """Have the admin (the default profile) register ``username``, as registration is admin_only, then
    log ``username`` in with its own named profile; returns the env selecting that profile."""
    email = f"--email={username}@example.com"
    result = await deis(
        "register", controller.url, f"--username={username}", f"--password={PASSWORD}", email, "--login=false"
    )
    assert result.ok, result
    env = {"DEIS_PROFILE": profile or username}
    result = await deis("login", controller.url, f"--username={username}", f"--password={PASSWORD}", env=env)
    assert result.ok, result
    return env
