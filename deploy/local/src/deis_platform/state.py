"""What the launcher remembers between runs: ``platform.json`` and ``secrets.json``.

``platform.json`` is the platform's public state file: the ports each listener actually got (so a port that
moved off its default stays put across ``down``/``up``), the pids of the running components, the platform
domain, the node labels given with ``up --label`` and when the platform came up. Other tools (the CLI,
end-to-end tests) may read it; only the launcher writes it.

``secrets.json`` (mode 0600) holds secrets generated once per data dir, today the builder key the services
use to authenticate each other's hooks. Secret values are never printed or logged.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_VERSION = 1


@dataclass
class PlatformState:
    """The content of ``platform.json``."""

    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int | None] = field(default_factory=dict)
    domain: str = "localhost"
    archive: bool = True  # WAL archiving on (kept until `up --no-archive`)
    registration_mode: str = "admin_only"  # who may register (kept until `up --registration-mode`)
    labels: dict[str, str] = field(default_factory=dict)  # `up --label k=v`, kept until replaced
    supervisord_pid: int | None = None
    started_at: str | None = None
    version: int = STATE_VERSION

    @classmethod
    def load(cls, path: Path) -> PlatformState:
        """The saved state, or an empty one when there is none yet (a fresh data dir)."""
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError:
            return cls()
        return cls(
            ports={str(k): int(v) for k, v in raw.get("ports", {}).items()},
            pids={str(k): (int(v) if v is not None else None) for k, v in raw.get("pids", {}).items()},
            domain=str(raw.get("domain", "localhost")),
            archive=bool(raw.get("archive", True)),
            registration_mode=str(raw.get("registration_mode", "admin_only")),
            labels={str(k): str(v) for k, v in raw.get("labels", {}).items()},
            supervisord_pid=raw.get("supervisord_pid"),
            started_at=raw.get("started_at"),
        )

    def save(self, path: Path) -> None:
        _write_atomically(path, json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", mode=0o644)


@dataclass(frozen=True)
class Secrets:
    """Secrets generated once per data dir."""

    builder_key: str

    @classmethod
    def load_or_create(cls, path: Path) -> Secrets:
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
            return cls(builder_key=str(raw["builder_key"]))
        except FileNotFoundError:
            created = cls(builder_key=secrets.token_urlsafe(32))
            _write_atomically(path, json.dumps(asdict(created)) + "\n", mode=0o600)
            return created

    def __repr__(self) -> str:  # keep the key out of tracebacks and debug prints
        return "Secrets(builder_key=***)"


def _write_atomically(path: Path, text: str, *, mode: int) -> None:
    """Replace ``path`` so a reader never sees half a file; it has ``mode`` from the start."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
