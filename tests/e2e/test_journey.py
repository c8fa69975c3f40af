"""A developer's first day on the platform, end to end, on one machine.

The platform is started by the launcher exactly as the README says (`deis-platform up`); every step
goes through the `deis` CLI, `git push` over SSH, or HTTP through the router by host name.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deis_common.testing import reach
from tests.controller import pem
from tests.e2e.platform import Platform, User, run, served_certificate, started_platform, wait_until

pytestmark = pytest.mark.e2e

WORKFLOW_NAME = re.compile(r"\b[a-z0-9-]+-web-[0-9]{8,10}-[a-z0-9]{5}\b")


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    with started_platform("deis-e2e-") as plat:
        yield plat


@pytest.fixture(scope="module")
def admin(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> User:
    user = User("ada", tmp_path_factory.mktemp("ada-home"), platform)
    out = user.ok(
        "register",
        platform.controller,
        "--username=ada",
        "--password=correct-horse",
        "--email=ada@example.com",
    )
    assert "Registered ada" in out
    assert "Logged in as ada" in out
    user.ok("keys:add", str(user.key) + ".pub")
    return user


def registered_by(admin: User, name: str, password: str, home: Path) -> User:
    """A user the admin registers (registration is admin_only, as on Workflow), then logged in."""
    platform = admin.platform
    admin.ok(
        "register",
        platform.controller,
        f"--username={name}",
        f"--password={password}",
        f"--email={name}@example.com",
        "--login=false",
    )
    user = User(name, home, platform)
    assert f"Logged in as {name}" in user.ok(
        "login", platform.controller, f"--username={name}", f"--password={password}"
    )
    return user


def page(platform: Platform, host: str) -> str:
    status, body, _ = platform.get(host)
    return body if status == 200 else f"<{status}>"


class Traffic:
    """Requests sent continuously to an app through the router while something happens."""

    def __init__(self, platform: Platform, host: str) -> None:
        self.platform, self.host = platform, host
        self.sent = self.ok = 0
        self.failures: list[str] = []
        self.bodies: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sent += 1
            try:
                status, body, _ = self.platform.get(self.host)
            except OSError as e:
                self.failures.append(repr(e))
                continue
            if status == 200:
                self.ok += 1
                self.bodies.add(body.strip())
            else:
                self.failures.append(f"{status} {body[:80]}")

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)


def test_first_user_deploys_a_python_app_and_runs_it(platform: Platform, admin: User, tmp_path: Path) -> None:
    repo = admin.checkout("python-web", tmp_path)
    created = admin.ok("create", "hello", cwd=repo)
    assert "created hello" in created
    assert "Git remote deis successfully created" in created

    pushed = admin.push(repo)
    assert pushed.code == 0, pushed.text
    for line in (
        "Starting build... but first, coffee!",
        "Python app detected",
        "Build complete.",
        "Launching App...",
        "Done, hello:v2 deployed to Workflow",
    ):
        assert line in pushed.err, f"missing {line!r} in push output:\n{pushed.err}"

    host = "hello.localhost"
    assert page(platform, host) == "Hello world from hello v2 code=one\n"
    assert platform.get("nobody-has-this-app.localhost")[0] == 404

    # Config becomes a new release, visible to the app.
    admin.ok("config:set", "GREETING=friends", cwd=repo)
    wait_until(lambda: "Hello friends from hello v3" in page(platform, host), what="v3 serving")

    # Scale out and back in.
    admin.ok("ps:scale", "web=3", cwd=repo)
    wait_until(lambda: admin.ok("ps", cwd=repo).count(" up (v3)") == 3, what="3 web processes up")
    admin.ok("ps:scale", "web=1", cwd=repo)
    wait_until(lambda: admin.ok("ps", cwd=repo).count(" up (v3)") == 1, what="back to 1 web process")

    # A code change rolls out with no failed request.
    (repo / "app.py").write_text((repo / "app.py").read_text().replace('VERSION = "one"', 'VERSION = "two"'))
    admin.commit_all(repo, "second version")
    with Traffic(platform, host) as traffic:
        pushed = admin.push(repo)
        assert pushed.code == 0, pushed.text
        wait_until(lambda: "code=two" in page(platform, host), what="v4 serving")
    assert traffic.failures == [], (
        f"{len(traffic.failures)} of {traffic.sent} requests failed: {traffic.failures[:5]}"
    )
    # Both versions answered while the traffic ran: it spanned the switch-over.
    assert any("code=one" in b for b in traffic.bodies) and any("code=two" in b for b in traffic.bodies)

    # Roll back to the first code, also without dropping requests.
    with Traffic(platform, host) as traffic:
        rolled = admin.ok("releases:rollback", "v3", cwd=repo)
        assert "v5" in rolled
        wait_until(lambda: "code=one" in page(platform, host), what="rollback serving")
    assert traffic.failures == [], (
        f"{len(traffic.failures)} of {traffic.sent} requests failed: {traffic.failures[:5]}"
    )
    releases = admin.ok("releases", cwd=repo)
    assert "v5" in releases and "rolled back to v3" in releases

    # Logs carry the app's own lines and the controller's account of what happened.
    logs = admin.ok("logs", cwd=repo)
    assert "hello[web." in logs
    assert "deis[controller]" in logs

    # One-off processes return their output and exit code.
    ran = admin.deis("run", "python -c 'print(6 * 7)'", cwd=repo)
    assert ran.code == 0, ran.text
    assert "42" in ran.text
    failed_run = admin.deis("run", "echo bad >&2; exit 3", cwd=repo)
    assert failed_run.code == 3, failed_run.text


def test_domains_certificates_and_access_rules(platform: Platform, admin: User, tmp_path: Path) -> None:
    repo = admin.checkout("python-web", tmp_path)
    admin.ok("create", "shop", cwd=repo)
    assert admin.push(repo).code == 0

    domain = "shop.example.test"
    admin.ok("domains:add", domain, cwd=repo)
    wait_until(lambda: "Hello world from shop" in page(platform, domain), what="custom domain serving")

    cert_pem, key_pem, der = self_signed(domain)
    (tmp_path / "shop.crt").write_bytes(cert_pem)
    (tmp_path / "shop.key").write_bytes(key_pem)
    admin.ok("certs:add", "shop-cert", str(tmp_path / "shop.crt"), str(tmp_path / "shop.key"))
    admin.ok("certs:attach", "shop-cert", domain)
    https_port = platform.ports["router_https"]
    wait_until(
        lambda: served_certificate(domain, https_port) == der, what="certificate served for its domain"
    )
    status, body, _ = platform.get(domain, https=True)
    assert (status, "Hello world from shop" in body) == (200, True)

    admin.ok("tls:enable", cwd=repo)
    wait_until(lambda: platform.get(domain)[0] == 301, what="https-only redirect")
    assert platform.get(domain)[2]["Location"].startswith(f"https://{domain}:{https_port}/")
    admin.ok("tls:disable", cwd=repo)
    wait_until(lambda: platform.get(domain)[0] == 200, what="plain http again")

    admin.ok("whitelist:add", "10.20.30.0/24", cwd=repo)
    wait_until(lambda: platform.get(domain)[0] == 403, what="whitelist denies loopback")
    admin.ok("whitelist:add", "127.0.0.1", cwd=repo)
    wait_until(lambda: platform.get(domain)[0] == 200, what="whitelist admits loopback")
    admin.ok("whitelist:remove", "10.20.30.0/24,127.0.0.1", cwd=repo)

    admin.ok("maintenance:on", cwd=repo)
    wait_until(lambda: platform.get(domain)[0] == 503, what="maintenance page")
    admin.ok("maintenance:off", cwd=repo)
    wait_until(lambda: platform.get(domain)[0] == 200, what="maintenance off")

    admin.ok("domains:remove", domain, cwd=repo)
    wait_until(lambda: platform.get(domain)[0] == 404, what="removed domain unknown")

    admin.ok("apps:destroy", "--app=shop", "--confirm=shop")
    wait_until(lambda: platform.get("shop.localhost")[0] == 404, what="destroyed app gone from the router")


def test_a_failing_build_leaves_the_running_release_serving(
    platform: Platform, admin: User, tmp_path: Path
) -> None:
    repo = admin.checkout("python-web", tmp_path)
    admin.ok("create", "steady", cwd=repo)
    assert admin.push(repo).code == 0
    assert "code=one" in page(platform, "steady.localhost")

    (repo / "requirements.txt").write_text("this-package-does-not-exist-anywhere-deis==0.0.1\n")
    (repo / "app.py").write_text((repo / "app.py").read_text().replace('"one"', '"broken"'))
    admin.commit_all(repo, "break the build")
    pushed = admin.push(repo)
    assert pushed.code != 0
    assert "error: failed to push some refs" in pushed.err
    assert "code=one" in page(platform, "steady.localhost")
    assert "v3" not in admin.ok("releases", cwd=repo)


def test_a_release_that_crashes_right_after_binding_its_port_never_replaces_the_running_one(
    platform: Platform, admin: User, tmp_path: Path
) -> None:
    repo = admin.checkout("python-web", tmp_path)
    admin.ok("create", "bindcrash", cwd=repo)
    assert admin.push(repo).code == 0
    assert "code=one" in page(platform, "bindcrash.localhost")

    # gunicorn binds the port, its workers cannot import `app`, and the master exits.
    (repo / "app.py").write_text((repo / "app.py").read_text().replace("app = Flask", "application = Flask"))
    admin.commit_all(repo, "rename the app object")
    with Traffic(platform, "bindcrash.localhost") as traffic:
        pushed = admin.push(repo)
    assert pushed.code != 0, pushed.text
    assert "keeps crashing" in pushed.err or "crashed within" in pushed.err, pushed.err
    assert traffic.failures == [], traffic.failures[:5]
    assert traffic.bodies and all("code=one" in body for body in traffic.bodies)
    assert "code=one" in page(platform, "bindcrash.localhost")


def test_a_node_app_is_built_and_served(platform: Platform, admin: User, tmp_path: Path) -> None:
    repo = admin.checkout("node-web", tmp_path)
    admin.ok("create", "nodey", cwd=repo)
    pushed = admin.push(repo)
    assert pushed.code == 0, pushed.text
    assert "Node.js app detected" in pushed.err
    assert page(platform, "nodey.localhost").startswith("Hello from node v")


def test_a_dockerfile_app_is_built_with_buildah_and_served(
    platform: Platform, admin: User, tmp_path: Path
) -> None:
    # FROM scratch with a static binary: no registry is needed to build or run it.
    repo = admin.checkout(Path(__file__).parents[1] / "builder" / "apps" / "dockerfile", tmp_path)
    compiled = run(["gcc", "-static", "-Os", "-o", "server", "server.c"], cwd=repo)
    assert compiled.code == 0, compiled.text
    admin.commit_all(repo, "static server")
    admin.ok("create", "boxed", cwd=repo)
    pushed = admin.push(repo)
    assert pushed.code == 0, pushed.text
    assert ": FROM scratch" in pushed.err
    assert "Done, boxed:v2 deployed to Workflow" in pushed.err
    assert page(platform, "boxed.localhost") == "Powered by a Dockerfile app!\n"
    assert "cmd" in admin.ok("ps", cwd=repo)


SH_ONLY_DOCKERFILE = """\
# Like an alpine or busybox image: a POSIX sh and a few tools, no bash.
FROM scratch
COPY rootfs/ /
COPY server /server
ENV PATH=/usr/bin:/bin
EXPOSE 5000
"""


def sh_only_image_context(context: Path) -> None:
    """A Dockerfile app whose image has /bin/sh (Debian's dash with its libraries) and env, but no bash."""
    shutil.copytree(Path(__file__).parents[1] / "builder" / "apps" / "dockerfile", context)
    (context / "Dockerfile").write_text(SH_ONLY_DOCKERFILE)
    (context / "Procfile").write_text("web: exec /server\n")
    compiled = run(["gcc", "-static", "-Os", "-o", "server", "server.c"], cwd=context)
    assert compiled.code == 0, compiled.text
    binaries = {"bin/sh": "/usr/bin/dash", "usr/bin/env": "/usr/bin/env"}
    libraries = run(["ldd", *binaries.values()]).out
    for name in set(re.findall(r"(/\S+\.so[.\d]*)", libraries)):
        binaries[name.lstrip("/")] = name
    for inside, host in binaries.items():
        (context / "rootfs" / inside).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(host).resolve(), context / "rootfs" / inside)


def test_an_image_app_with_only_sh_runs_restarts_and_scales_as_on_workflow(
    platform: Platform, admin: User, tmp_path: Path
) -> None:
    context = tmp_path / "tiny"
    sh_only_image_context(context)
    repo = admin.checkout(context, tmp_path / "checkout")
    admin.ok("create", "tiny", cwd=repo)
    pushed = admin.push(repo)
    assert pushed.code == 0, pushed.text
    assert page(platform, "tiny.localhost") == "Powered by a Dockerfile app!\n"

    # deis run goes through the image's sh (there is no bash to go through)
    ran = admin.deis("run", "env", cwd=repo)
    assert ran.code == 0, ran.text
    assert "DEIS_APP=tiny" in ran.out.splitlines()

    # A restart replaces the process: a new name in Workflow's shape, same release hash
    [before] = WORKFLOW_NAME.findall(admin.ok("ps", cwd=repo))
    restarted = admin.ok("ps:restart", "web", cwd=repo)
    [after] = WORKFLOW_NAME.findall(restarted)
    assert after != before and after.rsplit("-", 1)[0] == before.rsplit("-", 1)[0]
    assert f"{after} up (v2)" in restarted and before not in admin.ok("ps", cwd=repo)

    # Once ps:scale web=0 has returned, no process of the type is listed
    scaled = admin.ok("ps:scale", "web=0", cwd=repo)
    assert "tiny-web-" not in scaled and "tiny-web-" not in admin.ok("ps", cwd=repo)


def test_deis_pull_deploys_an_image_and_serves_it(platform: Platform, admin: User, tmp_path: Path) -> None:
    # No registry is reachable here; buildah reads the image from an OCI archive just the same.
    context = tmp_path / "image"
    shutil.copytree(Path(__file__).parents[1] / "builder" / "apps" / "dockerfile", context)
    assert run(["gcc", "-static", "-Os", "-o", "server", "server.c"], cwd=context).code == 0
    storage = [
        "buildah",
        "--root",
        str(tmp_path / "st"),
        "--runroot",
        str(tmp_path / "rr"),
        "--storage-driver",
        "vfs",
    ]
    built = run([*storage, "bud", "--isolation", "chroot", "-q", "-t", "localhost/greeter:1", str(context)])
    assert built.code == 0, built.text
    # buildah pulls as the build user: the archive must be readable by it (pytest's temp dirs are not)
    with tempfile.TemporaryDirectory(prefix="deis-e2e-pull-") as shared:
        archive = Path(shared) / "greeter.tar"
        assert run([*storage, "push", "localhost/greeter:1", f"oci-archive:{archive}"]).code == 0
        Path(shared).chmod(0o755)
        archive.chmod(0o644)

        admin.ok("create", "greeter", "--no-remote")
        pulled = admin.deis("pull", f"oci-archive:{archive}", "--app=greeter")
    assert pulled.code == 0, pulled.text
    assert "Creating build... done" in pulled.out
    wait_until(
        lambda: page(platform, "greeter.localhost") == "Powered by a Dockerfile app!\n", what="image served"
    )
    assert "deployed oci-archive:" in admin.ok("releases", "--app=greeter")


def test_a_second_user_cannot_see_or_touch_the_first_users_app(
    platform: Platform, admin: User, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = admin.checkout("python-web", tmp_path)
    admin.ok("create", "private", cwd=repo)

    bob = registered_by(admin, "bob", "hunter22", tmp_path_factory.mktemp("bob-home"))
    refused = bob.deis(
        "register", platform.controller, "--username=mallory", "--password=x", "--email=m@example.com"
    )
    assert refused.code == 1 and "You do not have permission to perform this action." in refused.err
    assert "private" not in bob.ok("apps")
    denied = bob.deis("config:set", "X=1", "--app=private")
    assert denied.code == 1 and denied.err.startswith("Error:")
    denied = bob.deis("apps:destroy", "--app=private", "--confirm=private")
    assert denied.code == 1
    assert "private" in admin.ok("apps")

    # Bob's key cannot push to Ada's app.
    bob.ok("keys:add", str(bob.key) + ".pub")
    bob.git("remote", "add", "deis", admin.git("remote", "get-url", "deis", cwd=repo).out.strip(), cwd=repo)
    assert bob.push(repo).code != 0


def process_addresses(platform: Platform, app: str) -> list[str]:
    """Where the app's processes listen (as the router knows them): what another tenant would scan for."""
    records = (platform.data_dir / "scheduler" / "processes" / app).glob("*/record.json")
    return [f"{r['address']}:{r['port']}" for r in map(json.loads, (p.read_text() for p in records))]


def test_apps_of_two_users_reach_neither_the_platform_nor_each_other(
    platform: Platform, admin: User, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Both builds install their packages from the registry: builds keep the outside world.
    ada_repo = admin.checkout("probe-web", tmp_path / "ada")
    (ada_repo / "probe.py").write_text(reach.PROBE)
    admin.commit_all(ada_repo, "the probe")
    admin.ok("create", "tenant-a", cwd=ada_repo)
    assert admin.push(ada_repo).code == 0
    carol = registered_by(admin, "carol", "hunter33", tmp_path_factory.mktemp("carol-home"))
    carol.ok("keys:add", str(carol.key) + ".pub")
    carol_repo = carol.checkout("probe-web", tmp_path / "carol")
    (carol_repo / "probe.py").write_text(reach.PROBE)
    carol.commit_all(carol_repo, "the probe")
    carol.ok("create", "tenant-b", cwd=carol_repo)
    assert carol.push(carol_repo).code == 0

    # Every port of the platform (NATS and its monitor, PostgreSQL, each service, the router, the git
    # server) on every address of the host, and Carol's process directly (around the router's rules).
    ports = sorted(set(platform.ports.values()))
    targets = [f"{address}:{port}" for address in reach.host_addresses() for port in ports]
    targets += process_addresses(platform, "tenant-b")
    assert len(process_addresses(platform, "tenant-b")) == 1

    # From Ada's web process...
    query = "&".join(f"t={t}" for t in targets)
    status, body, _ = platform.get("tenant-a.localhost", f"/probe?{query}")
    assert status == 200, body
    from_web = json.loads(body)
    assert set(from_web) == set(targets)
    assert [t for t, outcome in from_web.items() if outcome == "connected"] == []

    # ...and from a one-off process, which still reaches the outside world.
    ran = admin.deis("run", "python probe.py pypi.org:443 " + " ".join(targets), cwd=ada_repo)
    assert ran.code == 0, ran.text
    from_run = reach.verdicts(ran.out)
    assert from_run.pop("pypi.org:443") == "connected", ran.out
    assert [t for t, outcome in from_run.items() if outcome == "connected"] == []

    # Both apps still serve through the router, each on Workflow's port in a network of its own.
    assert page(platform, "tenant-a.localhost") == "tenant-a serving on 5000\n"
    assert page(platform, "tenant-b.localhost") == "tenant-b serving on 5000\n"


def self_signed(domain: str) -> tuple[bytes, bytes, bytes]:
    """PEM certificate and key for ``domain``, and the certificate's DER form (what the router serves)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_pem, key_pem = pem.self_signed(domain, domain)
    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    return cert_pem.encode(), key_pem.encode(), der


def test_down_stops_the_apps_and_up_brings_them_back(platform: Platform, admin: User, tmp_path: Path) -> None:
    repo = admin.checkout("node-web", tmp_path)
    admin.ok("create", "comeback", cwd=repo)
    assert admin.push(repo).code == 0
    endpoints_before = admin.ok("ps", cwd=repo)
    assert "up (v2)" in endpoints_before

    down = platform.cli("down")
    assert down.code == 0, down.text
    assert "app process(es)" in down.out
    assert not any(pid_alive(pid) for pid in app_pids(platform)), "apps outlived `deis-platform down`"

    up = platform.cli("up")
    assert up.code == 0, up.text
    wait_until(lambda: page(platform, "comeback.localhost").startswith("Hello from node"), timeout=120)
    assert "up (v2)" in admin.ok("ps", cwd=repo)


def app_pids(platform: Platform) -> list[int]:
    """Pids of processes running inside this platform's app sandboxes (their cmdline names the data dir)."""
    marker = str(platform.data_dir / "scheduler").encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
