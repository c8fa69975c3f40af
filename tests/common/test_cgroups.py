"""The one cgroup module (v1 and v2) of the builder and the scheduler, against a cgroup file system laid out
as the kernel lays it out (a directory tree here), so both versions are exercised on any machine; the
builder and scheduler tests exercise the real one of this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from deis_common import cgroups


@pytest.fixture
def v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A unified hierarchy (cgroup.controllers at the top), this process in /system.slice/builder."""
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    own = tmp_path / "system.slice" / "builder"
    own.mkdir(parents=True)
    monkeypatch.setattr(cgroups, "CGROUP_FS", tmp_path)
    monkeypatch.setattr(cgroups, "_own_cgroup", lambda: "/system.slice/builder")
    return own


@pytest.fixture
def v1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for controller in ("memory", "cpu"):
        (tmp_path / controller).mkdir()
    monkeypatch.setattr(cgroups, "CGROUP_FS", tmp_path)
    return tmp_path


def test_on_cgroup_v2_a_build_gets_memory_max_under_its_own_cgroup(v2: Path) -> None:
    plan = cgroups.plan("deis-builds", "builder-1", "step")
    assert plan == cgroups.CgroupPlan(unified=str(v2 / "deis-builds" / "builder-1" / "step"))
    assert cgroups.limits_memory()

    cgroups.create(plan, memory=64 * 1024**2, cpu=0.5)

    step = Path(plan.unified or "")
    assert (step / "memory.max").read_text() == str(64 * 1024**2)
    assert (step / "memory.swap.max").read_text() == "0"
    assert (step / "cpu.max").read_text() == "50000 100000"
    # Controllers are handed down to the new cgroups from the process's own cgroup.
    assert (v2 / "cgroup.subtree_control").read_text() == "+memory +cpu"
    assert (v2 / "deis-builds" / "cgroup.subtree_control").read_text() == "+memory +cpu"


def test_on_cgroup_v2_the_kernels_oom_kills_are_read_from_memory_events(v2: Path) -> None:
    plan = cgroups.plan("deis-builds", "builder-1", "step")
    cgroups.create(plan, memory=1024**2, cpu=None)
    Path(plan.unified or "", "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n")
    assert cgroups.oom_kills(plan) == 2


def test_on_cgroup_v1_memory_and_cpu_get_their_own_hierarchies(v1: Path) -> None:
    plan = cgroups.plan("deis-abc", "app", "app-web-1")
    assert plan == cgroups.CgroupPlan(
        memory=str(v1 / "memory" / "deis-abc" / "app" / "app-web-1"),
        cpu=str(v1 / "cpu" / "deis-abc" / "app" / "app-web-1"),
    )
    cgroups.create(plan, memory=128 * 1024**2, cpu=2)
    assert Path(plan.memory or "", "memory.limit_in_bytes").read_text() == str(128 * 1024**2)
    assert Path(plan.cpu or "", "cpu.cfs_quota_us").read_text() == "200000"


def test_a_process_enters_every_cgroup_of_its_plan_before_it_runs(v2: Path) -> None:
    plan = cgroups.plan("deis-builds", "builder-1", "step")
    prefix = cgroups.entering(plan, memory_fallback=1024**2)
    assert prefix[:2] == ["/bin/sh", "-c"]
    assert f'echo $$ > "{plan.unified}/cgroup.procs"' in prefix[2]
    assert "ulimit" not in prefix[2], "the cgroup limits memory; no rlimit needed"


def test_without_a_writable_controller_memory_falls_back_to_an_rlimit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cgroups, "CGROUP_FS", tmp_path)  # neither v1 controllers nor cgroup.controllers
    plan = cgroups.plan("deis-builds", "builder-1", "step")
    assert plan == cgroups.CgroupPlan() and not cgroups.limits_memory()
    assert cgroups.entering(plan, memory_fallback=64 * 1024**2)[2] == 'ulimit -d 65536 && exec "$@"'


def test_removing_a_plan_removes_its_empty_parents(v2: Path) -> None:
    plan = cgroups.plan("deis-builds", "builder-1", "step")
    cgroups.create(plan, memory=None, cpu=None)
    for leftover in Path(plan.unified or "").iterdir():  # a real cgroup dir has only kernel files
        leftover.unlink()
    for parent in (v2 / "deis-builds" / "builder-1", v2 / "deis-builds"):
        for leftover in parent.iterdir():
            if leftover.is_file():
                leftover.unlink()
    assert cgroups.remove(plan)
    assert not (v2 / "deis-builds").exists()


def test_cpu_time_is_read_from_cpu_stat_on_cgroup_v2(v2: Path) -> None:
    plan = cgroups.plan("deis-abc", "app", "app-worker-1")
    cgroups.create(plan, memory=None, cpu=None)
    assert cgroups.cpu_seconds(plan) is None  # nothing accounted yet

    Path(plan.unified or "", "cpu.stat").write_text(
        "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n"
    )

    assert cgroups.cpu_seconds(plan) == 2.5


def test_on_cgroup_v1_a_separate_cpuacct_hierarchy_gets_a_cgroup_for_accounting(v1: Path) -> None:
    (v1 / "cpuacct").mkdir()
    plan = cgroups.plan("deis-abc", "app", "app-worker-1")
    assert plan.cpuacct == str(v1 / "cpuacct" / "deis-abc" / "app" / "app-worker-1")
    assert plan.cpuacct in plan.dirs  # entered and removed with the others

    cgroups.create(plan, memory=None, cpu=0.5)
    Path(plan.cpuacct, "cpuacct.usage").write_text("1500000000\n")

    assert cgroups.cpu_seconds(plan) == 1.5


def test_on_cgroup_v1_a_comounted_cpuacct_accounts_in_the_cpu_cgroup(v1: Path) -> None:
    (v1 / "cpuacct").symlink_to(v1 / "cpu")
    plan = cgroups.plan("deis-abc", "app", "app-worker-1")
    assert plan.cpuacct is None

    cgroups.create(plan, memory=None, cpu=None)
    Path(plan.cpu or "", "cpuacct.usage").write_text("750000000\n")

    assert cgroups.cpu_seconds(plan) == 0.75
