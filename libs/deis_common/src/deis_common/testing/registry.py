"""A real image registry (CNCF distribution 2.8, Debian's ``docker-registry``), started per test.

Two places it can run, as the two kinds of registry the platform meets:
- :func:`registry_server`: on a free loopback port over plain HTTP, as the platform's own registry an
  operator configures (cluster-mode pushes go there from the builder's own network);
- :func:`docker_registry`: on a machine elsewhere, as builds reach a registry on the internet. It runs in a
  network namespace of its own with an address that is not this host's
  (:func:`deis_common.testing.elsewhere.remote_host`): a pull in a build's namespace gets there through the
  host's NAT, like any registry out there, while whatever listens on this host stays out of reach. It speaks
  HTTPS with a certificate of its own, trusted as an operator trusts a registry's private CA: in
  ``/etc/containers/certs.d/<host:port>/`` for exactly this registry, removed with it. With ``users`` it asks
  for basic auth checked against an htpasswd file (bcrypt, made with Apache's ``htpasswd``).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from deis_common.testing.elsewhere import remote_host
from deis_common.testing.ports import free_port
from deis_common.testing.processes import stop_process

READY = "listening on"
REMOTE_PORT = 5000  # the remote registry's own port: its namespace has nothing else
CERTS_D = Path("/etc/containers/certs.d")


@dataclass(frozen=True)
class Registry:
    host: str
    """host:port, as image references name it"""

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def image(self, repository: str) -> str:
        return f"{self.host}/{repository}"

    def tags(self, name: str) -> list[str]:
        """The tags a plain-HTTP registry holds for repository ``name`` (none when it has no such one)."""
        try:
            with urllib.request.urlopen(f"{self.url}/v2/{name}/tags/list", timeout=10) as response:
                return sorted(json.load(response).get("tags") or [])
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return []
            raise


@contextlib.contextmanager
def registry_server(workdir: Path, timeout: float = 20.0) -> Iterator[Registry]:
    """The registry on 127.0.0.1:<free port>, plain HTTP, ready when this yields."""
    host = f"127.0.0.1:{free_port()}"
    http = f"http: {{addr: '{host}', secret: test-secret}}"
    with _serving(workdir, [http], [], timeout):
        yield Registry(host)


@contextlib.contextmanager
def docker_registry(
    workdir: Path, users: dict[str, str] | None = None, timeout: float = 20.0
) -> Iterator[Registry]:
    """The registry elsewhere, over HTTPS (basic auth when ``users`` are given), ready when this yields."""
    workdir.mkdir(parents=True, exist_ok=True)
    with remote_host() as remote, _trusted_certificate(workdir, remote.address) as (certificate, key):
        host = f"{remote.address}:{REMOTE_PORT}"
        config = [
            f"http: {{addr: '{host}', secret: test-secret, tls: {{certificate: {certificate}, key: {key}}}}}"
        ]
        if users:
            config.append(f"auth: {{htpasswd: {{realm: deis-tests, path: {_htpasswd(workdir, users)}}}}}")
        with _serving(workdir, config, remote.enter(), timeout):
            yield Registry(host)


@contextlib.contextmanager
def _serving(workdir: Path, config: list[str], prefix: Sequence[str], timeout: float) -> Iterator[None]:
    """``docker-registry serve`` with ``config`` (besides storage in ``workdir``), until the block ends."""
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        raise FileNotFoundError("docker-registry not found (make test installs Debian's docker-registry)")
    workdir.mkdir(parents=True, exist_ok=True)
    lines = [
        "version: 0.1",
        "log: {level: info}",
        f"storage: {{filesystem: {{rootdirectory: {workdir / 'data'}}}, delete: {{enabled: true}}}}",
        *config,
    ]
    (workdir / "config.yml").write_text("\n".join(lines) + "\n")
    log_path = workdir / "registry.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*prefix, binary, "serve", str(workdir / "config.yml")], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + timeout
        while READY not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.05)
        yield
    finally:
        stop_process(process)


def _htpasswd(workdir: Path, users: dict[str, str]) -> Path:
    path = workdir / "htpasswd"
    lines = [
        subprocess.run(
            ["htpasswd", "-nbB", user, password], capture_output=True, text=True, check=True
        ).stdout.strip()
        for user, password in users.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def _trusted_certificate(workdir: Path, address: str) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for ``address``, trusted for ``address:REMOTE_PORT`` only, while in use."""
    certificate, key = workdir / "registry.crt", workdir / "registry.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=deis-test-registry",
            "-addext", f"subjectAltName=IP:{address}",
            "-keyout", str(key), "-out", str(certificate),
        ],
        capture_output=True,
        check=True,
    )  # fmt: skip
    trusted = CERTS_D / f"{address}:{REMOTE_PORT}"
    trusted.mkdir(mode=0o755, parents=True, exist_ok=True)
    CERTS_D.chmod(0o755)  # the build user looks there too
    shutil.copyfile(certificate, trusted / "ca.crt")
    (trusted / "ca.crt").chmod(0o644)
    try:
        yield certificate, key
    finally:
        shutil.rmtree(trusted, ignore_errors=True)
