"""Client profiles: where the CLI keeps the controller URL, user name and token.

A profile is a JSON file (``username``, ``ssl_verify``, ``controller``, ``token``, ``response_limit``,
plus the optional ``builder`` URL advertised by the controller). ``-c/--config`` or ``$DEIS_PROFILE``
names it: a value ending in ``.json`` is a path, a bare word is ``<profile dir>/<word>.json``, and the
default is ``<profile dir>/client.json``. The profile dir is ``$DEIS_PROFILE_DIR`` or ``~/.deis``.
Files are written with mode 0600 inside a 0700 directory, because they hold a bearer token.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from deis_cli.errors import CLIError

DEFAULT_LIMIT = 100


def profile_dir() -> Path:
    configured = os.environ.get("DEIS_PROFILE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(os.path.expanduser("~")) / ".deis"


def profile_path(name: str | None = None) -> Path:
    """The file a ``-c`` value (or ``$DEIS_PROFILE``, or nothing) refers to."""
    value = name or os.environ.get("DEIS_PROFILE") or ""
    if not value:
        return profile_dir() / "client.json"
    if value.endswith(".json"):
        return Path(value).expanduser()
    return profile_dir() / f"{value}.json"


@dataclass
class Profile:
    controller: str
    username: str = ""
    token: str = ""
    ssl_verify: bool = True
    response_limit: int = DEFAULT_LIMIT
    builder: str = ""

    @classmethod
    def load(cls, path: Path) -> Profile:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise CLIError(
                f"Client configuration file not found at: {path}\n"
                "Are you logged in? Use 'deis login' or 'deis register' to get started."
            ) from None
        except (OSError, ValueError) as e:
            raise CLIError(f"Could not read the client configuration file {path}: {e}") from e
        if not isinstance(raw, dict) or not raw.get("controller"):
            raise CLIError(
                f"The client configuration file {path} has no controller URL; run 'deis login' again."
            )
        limit = raw.get("response_limit") or DEFAULT_LIMIT
        return cls(
            controller=str(raw["controller"]),
            username=str(raw.get("username") or ""),
            token=str(raw.get("token") or ""),
            ssl_verify=bool(raw.get("ssl_verify", True)),
            response_limit=int(limit) if int(limit) > 0 else DEFAULT_LIMIT,
            builder=str(raw.get("builder") or ""),
        )

    def save(self, path: Path) -> Path:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = asdict(self)
        if not data["builder"]:
            del data["builder"]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.chmod(path, 0o600)
        return path


def delete_profile(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
