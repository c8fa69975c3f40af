"""The platform as a user meets it: started by the launcher, driven by the CLI, git and HTTP.

Nothing here reaches into a service: the only ways in are `deis-platform`, the `deis` command, `git push`
over SSH and HTTP requests to the router (by host name, with the port of the router).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
APPS = Path(__file__).parent / "apps"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 600
) -> Result:
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Platform:
    data_dir: Path

    def cli(self, *args: str) -> Result:
        return run([str(BIN / "deis-platform"), "--data-dir", str(self.data_dir), *args], timeout=300)

    def reserve_ports(self) -> None:
        """Record free ports before the first `up`, as if an earlier run had moved them there.

        The launcher keeps recorded ports, so this platform cannot race another one (a developer's, or a
        parallel test's) for the default ports.
        """
        from deis_common.testing.ports import free_port
        from deis_platform.ports import DEFAULT_PORTS

        ports = {role: free_port() for role in DEFAULT_PORTS}
        (self.data_dir / "platform.json").write_text(json.dumps({"ports": ports}))

    @property
    def ports(self) -> dict[str, int]:
        return {
            k: int(v) for k, v in json.loads((self.data_dir / "platform.json").read_text())["ports"].items()
        }

    @property
    def controller(self) -> str:
        return f"http://127.0.0.1:{self.ports['controller']}"

    def get(
        self, host: str, path: str = "/", *, https: bool = False, headers: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        """A request to the router for ``host`` (resolved to loopback, as *.localhost is), like a browser."""
        port = self.ports["router_https" if https else "router_http"]
        return http_get(host, port, path, https=https, headers=headers)


@contextlib.contextmanager
def started_platform(prefix: str = "deis-e2e-") -> Iterator[Platform]:
    """A platform the launcher starts in a new data dir, taken down and deleted afterwards."""
    # Not under pytest's temp root: that is private to root, and Postgres runs as its own user.
    root = Path(tempfile.mkdtemp(prefix=prefix))
    platform = Platform(root)
    platform.reserve_ports()
    started = platform.cli("up")
    assert started.code == 0, started.text
    assert "The platform is up" in started.out
    try:
        yield platform
    finally:
        platform.cli("down")
        shutil.rmtree(root, ignore_errors=True)


def http_get(
    host: str, port: int, path: str = "/", *, https: bool = False, headers: dict[str, str] | None = None
) -> tuple[int, str, dict[str, str]]:
    import http.client

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn: http.client.HTTPConnection
    if https:
        # SNI must carry the host name, so connect by name but to loopback.
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
        conn.sock = context.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=host
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": f"{host}:{port}", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace"), dict(response.getheaders())
    finally:
        conn.close()


def served_certificate(host: str, port: int) -> bytes:
    """The DER certificate the router presents for ``host`` (SNI)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


@dataclass
class User:
    """A person with their own home (CLI profile, SSH key) using the platform."""

    name: str
    home: Path
    platform: Platform
    key: Path = field(init=False)

    def __post_init__(self) -> None:
        (self.home / ".ssh").mkdir(parents=True, exist_ok=True)
        self.key = self.home / ".ssh" / "id_ed25519"
        if not self.key.exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", self.name, "-f", str(self.key)],
                check=True,
            )

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEIS_", "GIT_"))}
        env.update(
            HOME=str(self.home),
            GIT_SSH_COMMAND=(
                "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
                f"-i {self.key}"
            ),
            GIT_AUTHOR_NAME=self.name,
            GIT_AUTHOR_EMAIL=f"{self.name}@example.com",
            GIT_COMMITTER_NAME=self.name,
            GIT_COMMITTER_EMAIL=f"{self.name}@example.com",
            PATH=f"{BIN}:{os.environ.get('PATH', '')}",
        )
        return env

    def deis(self, *args: str, cwd: Path | None = None, timeout: float = 600) -> Result:
        return run([str(BIN / "deis"), *args], env=self.env, cwd=cwd, timeout=timeout)

    def ok(self, *args: str, cwd: Path | None = None) -> str:
        result = self.deis(*args, cwd=cwd)
        assert result.code == 0, f"deis {' '.join(args)} failed ({result.code}):\n{result.text}"
        return result.out

    def git(self, *args: str, cwd: Path, timeout: float = 900) -> Result:
        return run(["git", *args], env=self.env, cwd=cwd, timeout=timeout)

    def checkout(self, app_fixture: str | Path, workdir: Path) -> Path:
        """A git repository holding a copy of a sample app (a name under tests/e2e/apps, or a path)."""
        source = app_fixture if isinstance(app_fixture, Path) else APPS / app_fixture
        repo = workdir / source.name
        shutil.copytree(source, repo)
        self.git("init", "-q", "-b", "main", cwd=repo)
        self.git("add", ".", cwd=repo)
        self.git("commit", "-q", "-m", "first version", cwd=repo)
        return repo

    def commit_all(self, repo: Path, message: str) -> None:
        self.git("add", ".", cwd=repo)
        result = self.git("commit", "-q", "-m", message, cwd=repo)
        assert result.code == 0, result.text

    def push(self, repo: Path, *, branch: str = "main") -> Result:
        return self.git("push", "deis", branch, cwd=repo)


def wait_until(check, *, timeout: float = 60.0, interval: float = 0.5, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, urllib.error.URLError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")
