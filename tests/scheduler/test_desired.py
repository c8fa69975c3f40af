"""What a desired state means for a process: limits, commands, environment, identity, probes."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest

from deis_common.events.state import AppState, BuildArtifact, ImageConfig
from deis_scheduler.desired import (
    PICK_SHELL,
    DesiredStateError,
    command_for,
    environment,
    fingerprint,
    run_command_for,
    wanted_structure,
)
from deis_scheduler.limits import LimitError, cpu_cores, memory_bytes
from deis_scheduler.probes import DEFAULT_READINESS, Probe, probes_for

SLUG = BuildArtifact(
    kind="buildpack", location="home/a:git-1/push/slug.tgz", sha="1a2b3c4d", procfile={"web": "gunicorn app"}
)


def state(**changes: object) -> AppState:
    base = AppState(
        app="shop",
        generation=4,
        version=3,
        build=SLUG,
        env={"PORT": "9999", "DEIS_APP": "mine", "SECRET": "x"},
        structure={"web": 2, "worker": 0},
        summary="alice deployed 1a2b3c4",
        created_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512M", 512 * 2**20),
        ("1G", 2**30),
        ("256Mi", 256 * 2**20),
        ("128M/256M", 256 * 2**20),
        ("1k", 4 * 2**20),
    ],
)
def test_memory_limits_are_read_as_workflow_writes_them(text: str, expected: int) -> None:
    assert memory_bytes(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("500m", 0.5), ("2", 2.0), ("250m/1", 1.0), ("0.25", 0.25)])
def test_cpu_limits_are_read_in_cores(text: str, expected: float) -> None:
    assert cpu_cores(text) == expected


@pytest.mark.parametrize("text", ["lots", "12X", "-1M"])
def test_a_bad_memory_limit_is_refused_clearly(text: str) -> None:
    with pytest.raises(LimitError, match="must look like 512M"):
        memory_bytes(text)


def test_buildpack_processes_run_their_procfile_line_after_profile_d() -> None:
    argv = command_for(SLUG, "web")

    assert argv[:2] == ["/bin/bash", "-c"]
    assert "/app/.profile.d/*.sh" in argv[2] and argv[2].endswith("gunicorn app")
    with pytest.raises(DesiredStateError, match="no 'clock' process type"):
        command_for(SLUG, "clock")


def test_image_cmd_processes_use_the_images_entrypoint_and_cmd_unless_the_procfile_says_otherwise() -> None:
    image = BuildArtifact(
        kind="image", location="acme/api:1", image=ImageConfig(entrypoint=["/entry"], cmd=["serve", "--fast"])
    )
    with_procfile = image.model_copy(update={"procfile": {"cmd": "serve --slow", "clock": "tick"}})

    assert command_for(image, "cmd") == ["/entry", "serve", "--fast"]
    assert command_for(with_procfile, "cmd") == ["/entry", "serve", "--slow"]
    assert command_for(with_procfile, "clock", shell="/bin/bash") == ["/bin/bash", "-c", "tick"]


def test_image_commands_run_through_the_images_own_shell_bash_first_else_sh() -> None:
    image = BuildArtifact(kind="image", location="alpine:3", procfile={"clock": "tick"})

    assert command_for(image, "clock", shell="/bin/sh") == ["/bin/sh", "-c", "tick"]
    assert run_command_for(image, "env", shell="/bin/sh") == ["/bin/sh", "-c", "env"]
    assert run_command_for(SLUG, "env")[:2] == ["/bin/bash", "-c"], "slugs keep bash and profile.d"
    # Where the image's files are not at hand, its sh chooses when the container starts.
    assert command_for(image, "clock") == [*PICK_SHELL, "tick"]
    with pytest.raises(DesiredStateError, match=r"no shell \(/bin/bash or /bin/sh\) to run 'env'"):
        run_command_for(image, "env", shell="")


def test_the_shell_picked_at_start_is_bash_when_there_is_one() -> None:
    line = 'echo "${BASH_VERSION:+bash}" "$0"; exit 3'
    picked = subprocess.run([*PICK_SHELL, line], capture_output=True, text=True)

    assert (picked.returncode, picked.stdout) == (3, "bash /bin/bash\n")


def test_config_wins_over_defaults_but_the_assigned_port_wins_over_config() -> None:
    env = environment(state(), "web", port=40123)

    assert env["DEIS_APP"] == "mine" and env["SECRET"] == "x"
    assert env["PORT"] == "40123"
    assert env["WORKFLOW_RELEASE"] == "v3" and env["SOURCE_VERSION"] == "1a2b3c4d"
    assert env["WORKFLOW_RELEASE_CREATED_AT"] == "2026-11-23T12:00:00Z"
    assert env["PATH"].startswith("/app/.venv/bin:")


def test_scaling_keeps_a_processes_identity_but_a_config_change_does_not() -> None:
    assert fingerprint(state(structure={"web": 5}), "web") == fingerprint(state(), "web")
    assert fingerprint(state(env={"SECRET": "y"}), "web") != fingerprint(state(), "web")
    assert fingerprint(state(memory={"web": "1G"}), "web") != fingerprint(state(), "web")
    assert fingerprint(state(memory={"worker": "1G"}), "web") == fingerprint(state(), "web")


def test_types_scaled_to_zero_and_releases_without_a_build_run_nothing() -> None:
    assert wanted_structure(state()) == {"web": 2}
    assert wanted_structure(state(build=None)) == {}


def test_routable_types_get_the_default_readiness_probe_and_others_none() -> None:
    assert probes_for(state(), "web").readiness == DEFAULT_READINESS
    assert probes_for(state(), "worker").readiness is None
    custom = state(healthchecks={"web/cmd": {"readinessProbe": {"httpGet": {"path": "/up", "port": 80}}}})
    assert probes_for(custom, "web").readiness == Probe("http", port=80, path="/up")


def test_a_probe_without_a_check_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="one of httpGet, tcpSocket or exec"):
        Probe.from_config({"periodSeconds": 3})
