"""A real Docker registry (Debian's ``docker-registry``, distribution 2.8) on a machine elsewhere, as builds
reach a registry on the internet.

It runs in a network namespace of its own with an address that is not this host's
(:func:`deis_common.testing.elsewhere.remote_host`): a pull in a build's namespace gets there through the
host's NAT, like any registry out there, while whatever listens on this host stays out of reach. It speaks
HTTPS with a certificate of its own, trusted as an operator trusts a registry's private CA: in
``/etc/containers/certs.d/<host:port>/`` for exactly this registry, removed with it. With ``users`` it asks
for basic auth checked against an htpasswd file (bcrypt, made with Apache's ``htpasswd``).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from deis_common.testing.elsewhere import remote_host

READY = "listening on"
PORT = 5000  # the registry's own port: the namespace has nothing else
CERTS_D = Path("/etc/containers/certs.d")


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
    with remote_host() as remote, _trusted_certificate(workdir, remote.address) as (certificate, key):
        config = [
            "version: 0.1",
            "log: {level: info}",
            f"storage: {{filesystem: {{rootdirectory: {workdir / 'data'}}}}}",
            f"http: {{addr: '{remote.address}:{PORT}', secret: test-secret, "
            f"tls: {{certificate: {certificate}, key: {key}}}}}",
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
                [*remote.enter(), binary, "serve", str(workdir / "config.yml")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + timeout
            while READY not in log_path.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"docker-registry did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.05)
            yield Registry(host=f"{remote.address}:{PORT}")
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def _trusted_certificate(workdir: Path, address: str) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for ``address``, trusted for ``address:PORT`` only, while in use."""
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
    trusted = CERTS_D / f"{address}:{PORT}"
    trusted.mkdir(mode=0o755, parents=True, exist_ok=True)
    CERTS_D.chmod(0o755)  # the build user looks there too
    shutil.copyfile(certificate, trusted / "ca.crt")
    (trusted / "ca.crt").chmod(0o644)
    try:
        yield certificate, key
    finally:
        shutil.rmtree(trusted, ignore_errors=True)
