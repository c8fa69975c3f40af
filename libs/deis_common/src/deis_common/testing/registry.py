"""A real image registry (CNCF distribution, Debian's ``docker-registry``) on a free loopback port.

Plain HTTP and filesystem storage in a temporary directory. :meth:`Registry.tags` reads
``/v2/<name>/tags/list`` as any client would.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deis_common.testing.ports import free_port


def registry_binary() -> str:
    found = shutil.which("docker-registry") or shutil.which("registry")
    if found is None:
        raise FileNotFoundError("docker-registry not found (Debian package docker-registry)")
    return found


@dataclass
class Registry:
    host: str
    """host:port, as image references name it"""
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def tags(self, name: str) -> list[str]:
        """The tags the registry holds for repository ``name`` (none when it has no such repository)."""
        try:
            with urllib.request.urlopen(f"{self.url}/v2/{name}/tags/list", timeout=10) as response:
                return sorted(json.load(response).get("tags") or [])
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return []
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def registry_server(workdir: Path, timeout: float = 20.0) -> Iterator[Registry]:
    """Start ``docker-registry serve`` on 127.0.0.1:<free port> and wait until ``/v2/`` answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log_path = workdir / "registry.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [registry_binary(), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    registry = Registry(host=f"127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{registry.url}/v2/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"docker-registry not ready: {log_path.read_text()[-2000:]}") from None
                time.sleep(0.05)
        yield registry
    finally:
        registry.stop()
