"""``deis-platform`` driven the way a user drives it: as a command, against real servers.

One platform is brought up per module in a temporary data dir (on this machine the default NATS and
Postgres ports are taken by system services, so the port fallback is exercised too) and the tests walk
through its life: healthy status, idempotent ``up``, logs, ``down`` and an ``up`` that keeps the data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from deis_common import pgserver
from deis_platform import postgres

LAUNCHER = str(Path(sys.executable).parent / "deis-platform")
COMPONENTS = {"nats", "postgres", "router", "controller", "builder", "scheduler", "router-sync", "backup"}


@dataclass
class PlatformDir:
    root: Path

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [LAUNCHER, "--data-dir", str(self.root), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def up(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run("up", *args, "--timeout", "90")
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    @property
    def state(self) -> dict:  # type: ignore[type-arg]
        return json.loads((self.root / "platform.json").read_text())  # type: ignore[no-any-return]

    def status_rows(self) -> tuple[int, dict[str, dict[str, str]]]:
        """``status``'s exit code and its table: component → column → cell."""
        result = self.run("status")
        header, *lines = result.stdout.splitlines()
        columns = header.split()
        assert columns == ["COMPONENT", "PID", "PORTS", "STATE", "HEALTH"], result.stdout + result.stderr
        starts = [header.index(c) for c in columns]
        bounds = list(zip(starts, [*starts[1:], None], strict=True))
        rows = [{c: line[a:b].strip() for c, (a, b) in zip(columns, bounds, strict=True)} for line in lines]
        return result.returncode, {row["COMPONENT"]: row for row in rows}

    @property
    def passwords(self) -> dict[str, str]:
        """The database roles' passwords the launcher generated (superuser, controller, backup)."""
        return json.loads((self.root / "postgres-credentials.json").read_text())  # type: ignore[no-any-return]

    def sql(self, statement: str, user: str = "postgres", password: str | None = None) -> str:
        """One statement in the ``deis`` database, as the superuser unless ``user`` (and its password)."""
        password = self.passwords["superuser"] if password is None else password
        return postgres.psql(
            self.state["ports"]["postgres"], statement, password=password, database="deis", user=user
        )


def _kill_leftover_supervisord(root: Path) -> None:
    pidfile = root / "supervisor" / "supervisord.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


@contextmanager
def data_dir() -> Iterator[Path]:
    """A data dir outside pytest's basetemp: every pytest session starting on this machine makes
    ``/tmp/pytest-of-<user>`` private again, which would lock out the unprivileged Postgres user."""
    path = Path(tempfile.mkdtemp(prefix="deis-platform-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def platform() -> Iterator[PlatformDir]:
    with data_dir() as root:
        yield from _running(PlatformDir(root))


def _running(running: PlatformDir) -> Iterator[PlatformDir]:
    try:
        running.up()
        yield running
    finally:
        result = running.run("down")
        if result.returncode != 0:
            _kill_leftover_supervisord(running.root)


@pytest.fixture
def broken() -> Iterator[PlatformDir]:
    with data_dir() as root:
        yield PlatformDir(root)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_up_brings_every_component_to_healthy_with_pids_and_ports(platform: PlatformDir) -> None:
    code, rows = platform.status_rows()

    assert code == 0
    assert set(rows) == COMPONENTS
    for name, row in rows.items():
        assert row["PID"].isdigit() and _alive(int(row["PID"])), name
        assert (row["STATE"], row["HEALTH"]) == ("RUNNING", "healthy"), row
    assert rows["postgres"]["PORTS"] == f"sql:{platform.state['ports']['postgres']}"
    assert f"ssh:{platform.state['ports']['builder_ssh']}" in rows["builder"]["PORTS"].split()


def test_state_file_records_the_actual_ports_and_pids(platform: PlatformDir) -> None:
    state = platform.state
    _, rows = platform.status_rows()

    assert {name: str(pid) for name, pid in state["pids"].items()} == {n: r["PID"] for n, r in rows.items()}
    assert len(set(state["ports"].values())) == len(state["ports"])
    assert (platform.root / "secrets.json").stat().st_mode & 0o777 == 0o600
    assert (platform.root / "postgres-credentials.json").stat().st_mode & 0o777 == 0o600


def test_up_when_already_up_says_so(platform: PlatformDir) -> None:
    pids_before = platform.state["pids"]

    result = platform.up()

    assert "already up" in result.stdout
    assert platform.state["pids"] == pids_before


def test_up_prints_where_to_reach_the_platform(platform: PlatformDir) -> None:
    ports = platform.state["ports"]

    out = platform.up().stdout

    assert f"http://127.0.0.1:{ports['controller']}" in out
    assert f"ssh://git@127.0.0.1:{ports['builder_ssh']}/<app>.git" in out
    assert f"http://<app>.localhost:{ports['router_http']}" in out
    assert "git push deis main" in out


def test_logs_show_a_component_output(platform: PlatformDir) -> None:
    result = platform.run("logs", "nats", "-n", "200")

    assert result.returncode == 0
    assert "Server is ready" in result.stdout


def test_logs_of_an_unknown_component_fail(platform: PlatformDir) -> None:
    result = platform.run("logs", "nope")

    assert result.returncode != 0
    assert "unknown component" in result.stderr


def register(platform: PlatformDir, username: str) -> httpx.Response:
    """An anonymous registration, as `deis register` sends it when nobody is logged in."""
    url = f"http://127.0.0.1:{platform.state['ports']['controller']}/v2/auth/register/"
    return httpx.post(url, json={"username": username, "password": "pw", "email": f"{username}@x.io"})


def test_only_the_first_user_registers_alone_by_default(platform: PlatformDir) -> None:
    first = register(platform, "ada")
    second = register(platform, "bob")

    assert platform.state["registration_mode"] == "admin_only"
    assert (first.status_code, first.json()["is_superuser"]) == (201, True)
    assert (second.status_code, second.json()) == (
        403,
        {"detail": "You do not have permission to perform this action."},
    )


def test_down_then_up_keeps_the_data_and_the_ports(platform: PlatformDir) -> None:
    platform.sql("CREATE TABLE kept (note text)")
    platform.sql("INSERT INTO kept VALUES ('survives a restart')")
    (platform.root / "store" / "kept.txt").write_text("still here")
    before = platform.state
    code, _ = platform.status_rows()
    assert code == 0

    down = platform.run("down")

    assert down.returncode == 0, down.stderr
    assert not any(_alive(pid) for pid in [*before["pids"].values(), before["supervisord_pid"]])
    code, rows = platform.status_rows()
    assert code == 3
    assert {row["STATE"] for row in rows.values()} == {"STOPPED"}

    passwords = platform.passwords
    platform.up()

    assert platform.passwords == passwords
    assert platform.sql("SELECT note FROM kept") == "survives a restart"
    # what the superuser made in the controller's database is handed to the controller's role
    assert platform.sql("SELECT note FROM kept", user="deis", password=passwords["controller"]) == (
        "survives a restart"
    )
    assert (platform.root / "store" / "kept.txt").read_text() == "still here"
    assert platform.state["ports"] == before["ports"]
    code, rows = platform.status_rows()
    assert code == 0, rows


def test_open_registration_is_chosen_at_up_and_remembered(platform: PlatformDir) -> None:
    assert platform.run("down").returncode == 0

    platform.up("--registration-mode", "enabled")
    later = register(platform, "carol")

    assert platform.state["registration_mode"] == "enabled"
    assert (later.status_code, later.json()["is_superuser"]) == (201, False)


def test_wal_segments_are_archived_to_the_store_by_default(platform: PlatformDir) -> None:
    assert platform.state["archive"] is True
    assert platform.sql("SHOW archive_mode") == "on"

    segment = platform.sql("SELECT pg_walfile_name(pg_switch_wal())")

    wal = platform.root / "store" / "database" / "wal"
    deadline = time.monotonic() + 30
    while not (wal / f"{segment}.gz").exists():
        assert time.monotonic() < deadline, sorted(p.name for p in wal.glob("*"))
        time.sleep(0.2)


def test_the_router_serves_the_controller_at_deis_dot_domain(platform: PlatformDir) -> None:
    port = platform.state["ports"]["router_http"]

    via_router = httpx.get(f"http://127.0.0.1:{port}/v2/", headers={"Host": f"deis.localhost:{port}"})
    unknown = httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": "nope.localhost"})

    # Only the controller answers the API root: 401 without a token, with its version header.
    assert via_router.status_code == 401
    assert "DEIS_API_VERSION" in via_router.headers
    assert unknown.status_code == 404


def test_node_labels_given_to_up_are_recorded_and_checked_by_the_controller(platform: PlatformDir) -> None:
    assert platform.run("down").returncode == 0

    out = platform.up("--label", "disk=ssd").stdout

    assert platform.state["labels"] == {"disk": "ssd"}
    assert "disk=ssd" in next(line for line in out.splitlines() if "node labels" in line)
    api = f"http://127.0.0.1:{platform.state['ports']['controller']}"
    user = {"username": "labeller", "password": "s3cret-pass", "email": "l@example.com"}
    assert httpx.post(f"{api}/v2/auth/register/", json=user).status_code == 201
    token = httpx.post(f"{api}/v2/auth/login/", json=user).json()["token"]
    headers = {"Authorization": f"token {token}"}
    assert httpx.post(f"{api}/v2/apps/", json={"id": "placed"}, headers=headers).status_code == 201

    def tags_set(tags: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{api}/v2/apps/placed/config/", json={"tags": tags}, headers=headers, timeout=30)

    assert tags_set({"disk": "ssd"}).status_code == 201
    refused = tags_set({"disk": "hdd"})
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "No nodes matched the provided labels: disk=hdd - Addition of disk=hdd is the cause"
    }
    # a later `up` without --label keeps them
    platform.up()
    assert platform.state["labels"] == {"disk": "ssd"}


def test_a_component_that_cannot_start_is_named_with_the_tail_of_its_log(broken: PlatformDir) -> None:
    pgserver.initdb(broken.root / "postgres", "a password")
    with (broken.root / "postgres" / "postgresql.conf").open("a") as conf:
        # only the server checks this (the launcher's setup before it starts goes through)
        conf.write("wal_level = minimal\n")

    try:
        result = broken.run("up", "--timeout", "5")
    finally:
        broken.run("down")
        _kill_leftover_supervisord(broken.root)

    assert result.returncode == 1
    assert (
        "postgres did not become healthy within 5s" in result.stderr
        or "postgres is not running" in result.stderr
    )
    assert "wal_level" in result.stderr  # from the log tail
    assert not (broken.root / "supervisor" / "supervisor.sock").exists()
