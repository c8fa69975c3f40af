"""A real S3 server for tests: moto's standalone ``moto_server``, spoken to over HTTP.

The s3 store driver must be tested against a peer that parses real requests (signatures, multipart,
error bodies), not a patched client. This module owns starting that peer on a free loopback port,
waiting until it answers HTTP, and stopping it. Buckets and objects live in the server's memory and
vanish with it.

``moto_server()`` is the context manager; ``s3_endpoint`` is the session-scoped pytest fixture on it
(also registered by :mod:`deis_common.testing.plugin`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deis_common.testing.ports import free_port
from deis_common.testing.processes import stop_process

#: Credentials the tests pass to the driver; moto accepts any.
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


def moto_server_command() -> list[str]:
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("moto_server")
    # Without the console script, the module runs the same server.
    return [found] if found else [sys.executable, "-m", "moto.server"]


@contextlib.contextmanager
def moto_server(*, timeout: float = 30.0) -> Iterator[str]:
    """Run ``moto_server -H 127.0.0.1 -p <free port>``; yield its endpoint URL (``http://127.0.0.1:<port>``)."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="deis-moto-") as workdir:
        log_path = Path(workdir) / "moto.log"
        # A file, not a pipe: moto logs every request, and a full pipe would stall the server.
        with log_path.open("w") as log_file:
            process = subprocess.Popen(
                [*moto_server_command(), "-H", "127.0.0.1", "-p", str(port)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_answering(endpoint, process, log_path, timeout)
            yield endpoint
        finally:
            stop_process(process)


def _wait_until_answering(
    endpoint: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> None:
    # Loopback only: never through a proxy the environment may configure.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            with opener.open(f"{endpoint}/moto-api/", timeout=1):
                return
        except urllib.error.HTTPError:
            return  # an HTTP error status is still an answer
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"moto_server on {endpoint} did not answer:\n{log_path.read_text()}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint URL of one moto S3 server shared by the session (tests use distinct buckets or keys)."""
    with moto_server() as endpoint:
        yield endpoint
