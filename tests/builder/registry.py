"""A real Docker registry (Debian's ``docker-registry``, distribution 2.8) on a free loopback port.

Plain HTTP, as Docker and the builder reach a registry on a loopback address; with ``users`` it asks for
basic auth checked against an htpasswd file (bcrypt, made with Apache's ``htpasswd``).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deis_common.testing.ports import free_port

READY = "listening on"


@dataclass(frozen=True)
class Registry:
    host: str  # host:port, as image names spell it

    def image(self, repository: str) -> str:
        return f"{self.host}/{repository}"


@contextlib.contextmanager
def docker_registry(
    workdir: Path, users: dict[str, str] | None = None, timeout: float = 20.0
) -> Iterator[Registry]:
    binary = shutil.which("docker-registry")
    if binary is None:
        raise FileNotFoundError("docker-registry not found (make test installs Debian's docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = [
        "version: 0.1",
        "log: {level: info}",
        f"storage: {{filesystem: {{rootdirectory: {workdir / 'data'}}}}}",
        f"http: {{addr: '127.0.0.1:{port}', secret: test-secret}}",
    ]
    if users:
        htpasswd = workdir / "htpasswd"
        lines = []
        for user, password in users.items():
            made = subprocess.run(
                ["htpasswd", "-nbB", user, password], capture_output=True, text=True, check=True
            )
            lines.append(made.stdout.strip())
        htpasswd.write_text("\n".join(lines) + "\n")
        config.append(f"auth: {{htpasswd: {{realm: deis-tests, path: {htpasswd}}}}}")
    (workdir / "config.yml").write_text("\n".join(config) + "\n")
    log_path = workdir / "registry.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [binary, "serve", str(workdir / "config.yml")], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + timeout
        while READY not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        yield Registry(host=f"127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
