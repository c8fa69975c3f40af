"""What an app's desired state means for one process type: command, environment, routability, identity.

Pure functions over :class:`~deis_common.events.state.AppState`, shared by both backends, following the
Workflow rules (workflow-features §3.3-3.4): only ``web`` and ``cmd`` are routable; buildpack processes run
their Procfile line through bash after sourcing ``/app/.profile.d``; image processes of type ``cmd`` without a
Procfile entry run the image's entrypoint and cmd; other Procfile lines of images, and ``deis run`` in an
image, go through the image's shell (:data:`IMAGE_SHELLS`); the default env is ``DEIS_APP``,
``WORKFLOW_RELEASE``, ``WORKFLOW_RELEASE_SUMMARY``, ``WORKFLOW_RELEASE_CREATED_AT``, ``SOURCE_VERSION`` and
``PORT``, and the user's config wins over it. ``PORT`` is Workflow's (:func:`port_of`): the user's, else
5000 for buildpack apps, else the image's first ``EXPOSE`` port.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from typing import Any

from deis_common.events.state import AppState, BuildArtifact

ROUTABLE_TYPES = ("web", "cmd")
BUILDPACK_PORT = 5000
BUILDPACK_PATH = "/app/.venv/bin:/app/bin:/app/node_modules/.bin:/usr/local/bin:/usr/bin:/bin"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Heroku's profile.d convention: scripts a buildpack leaves behind set up PATH and friends at start.
PROFILE_D = 'for f in /app/.profile.d/*.sh; do [ -r "$f" ] && . "$f"; done; '

IMAGE_SHELLS = ("/bin/bash", "/bin/sh")
"""The shells a command runs through in an image, first found first: bash, as on Workflow (a Procfile line may
rely on it), else the POSIX sh that images without bash (alpine, busybox, distroless-with-shell) have."""
# For an image whose files cannot be looked into before it runs (Kubernetes), the image's sh makes the same
# choice when the container starts: ``PICK_SHELL + [command]``.
PICK_SHELL = [
    "/bin/sh",
    "-c",
    'if [ -x /bin/bash ]; then exec /bin/bash -c "$1"; fi; exec /bin/sh -c "$1"',
    "sh",
]


class DesiredStateError(ValueError):
    """The desired state cannot be run (no build, no command for a type)."""


def is_routable(ptype: str) -> bool:
    return ptype in ROUTABLE_TYPES


def wanted_structure(state: AppState) -> dict[str, int]:
    """Process type -> replicas, without types scaled to 0; nothing runs for a release without a build."""
    if state.build is None:
        return {}
    return {ptype: count for ptype, count in sorted(state.structure.items()) if count > 0}


def fingerprint(state: AppState, ptype: str) -> str:
    """Identity of what a process of ``ptype`` runs: equal fingerprints need no restart on a new generation.

    Everything but the replica counts matters: release, build, config, limits, health checks, tags.
    """
    material: dict[str, Any] = {
        "version": state.version,
        "build": state.build.model_dump(mode="json") if state.build else None,
        "env": state.env,
        "memory": state.memory.get(ptype),
        "cpu": state.cpu.get(ptype),
        "healthchecks": healthcheck_config(state, ptype),
        "tags": state.tags,
        "type": ptype,
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:12]


def healthcheck_config(state: AppState, ptype: str) -> dict[str, Any]:
    """The probe config of a type; ``web`` and ``cmd`` fall back to the ``web/cmd`` key."""
    config = state.healthchecks.get(ptype)
    if config is None and is_routable(ptype):
        config = state.healthchecks.get("web/cmd")
    return dict(config or {})


def shell_command(shell: str | None, command: str) -> list[str]:
    """``command`` run by an image's ``shell``.

    ``shell`` is the image's first of :data:`IMAGE_SHELLS` where its files were looked into, ``""`` when it
    has none of them, None when they cannot be looked into (the image's sh picks one at start).
    """
    if shell is None:
        return [*PICK_SHELL, command]
    if not shell:
        shells = " or ".join(IMAGE_SHELLS)
        raise DesiredStateError(f"the image has no shell ({shells}) to run {command!r} with")
    return [shell, "-c", command]


def command_for(build: BuildArtifact, ptype: str, *, shell: str | None = None) -> list[str]:
    """The argv a process of ``ptype`` runs inside its sandbox (``shell``: see :func:`shell_command`)."""
    line = build.procfile.get(ptype, "").strip()
    if build.kind == "buildpack":
        if not line:
            raise DesiredStateError(f"the Procfile has no {ptype!r} process type")
        return ["/bin/bash", "-c", PROFILE_D + line]
    image = build.image
    entrypoint = list(image.entrypoint) if image else []
    if ptype == "cmd":
        args = shlex.split(line) if line else (list(image.cmd) if image else [])
        argv = entrypoint + args
        if not argv:
            raise DesiredStateError(
                "the image has neither an entrypoint nor a cmd, and the Procfile no 'cmd'"
            )
        return argv
    if not line:
        raise DesiredStateError(f"the Procfile has no {ptype!r} process type")
    return shell_command(shell, line)


def run_command_for(build: BuildArtifact, command: str, *, shell: str | None = None) -> list[str]:
    """The argv of a one-off ``deis run``: bash after profile.d for buildpack apps, the image's shell else."""
    if build.kind == "buildpack":
        return ["/bin/bash", "-c", PROFILE_D + command]
    return shell_command(shell, command)


def environment(state: AppState, ptype: str, *, port: int | None) -> dict[str, str]:
    """The environment of a process: platform defaults, then the image's env, then the user's config."""
    build = state.build
    env: dict[str, str] = {
        "HOME": "/app" if build is None or build.kind == "buildpack" else "/",
        "PATH": BUILDPACK_PATH if build is None or build.kind == "buildpack" else SYSTEM_PATH,
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DEIS_APP": state.app,
        "WORKFLOW_RELEASE": f"v{state.version}",
        "WORKFLOW_RELEASE_SUMMARY": state.summary,
    }
    if state.created_at is not None:
        env["WORKFLOW_RELEASE_CREATED_AT"] = state.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if build is not None and build.sha:
        env["SOURCE_VERSION"] = build.sha
    if build is not None and build.image is not None:
        env.update(build.image.env)
    env.update(state.env)
    if port is not None:
        env["PORT"] = str(port)
    env["DEIS_PROCESS_TYPE"] = ptype
    return dict(sorted(env.items()))


def port_of(state: AppState) -> int | None:
    """PORT: the user's config, else 5000 for buildpacks, else the image's first exposed port."""
    configured = state.env.get("PORT", "")
    if configured.isdigit() and 0 < int(configured) < 65536:
        return int(configured)
    build = state.build
    if build is None or build.kind == "buildpack":
        return BUILDPACK_PORT
    if build.image and build.image.exposed_ports:
        return build.image.exposed_ports[0]
    return None


MIN_READY_KEY = "DEIS_MIN_READY_SECONDS"


def min_ready_seconds(state: AppState, default: float) -> float:
    """How long a new process must stay up after it is ready before the release it replaces is retired.

    The app's ``DEIS_MIN_READY_SECONDS`` config (like Workflow's ``DEIS_DEPLOY_TIMEOUT``), else ``default``;
    Kubernetes calls it ``minReadySeconds``.
    """
    try:
        value = float(state.env.get(MIN_READY_KEY, default))
    except ValueError:
        return default
    return value if 0 <= value <= 3600 else default


def workdir_for(build: BuildArtifact) -> str:
    if build.kind == "buildpack":
        return "/app"
    return (build.image.workdir if build.image else "") or "/"
