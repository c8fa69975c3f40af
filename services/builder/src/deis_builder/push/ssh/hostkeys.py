"""Host keys: generated once (rsa and ecdsa, as the original builder offers) and kept in the data dir,
so clients see the same host across restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncssh

KEYS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("ssh_host_rsa_key", "ssh-rsa", {"key_size": 3072}),
    ("ssh_host_ecdsa_key", "ecdsa-sha2-nistp256", {}),
)


def load_host_keys(directory: Path) -> list[asyncssh.SSHKey]:
    directory.mkdir(parents=True, exist_ok=True)
    keys = []
    for filename, algorithm, options in KEYS:
        path = directory / filename
        if path.exists():
            keys.append(asyncssh.read_private_key(str(path)))
            continue
        key = asyncssh.generate_private_key(algorithm, **options)
        tmp = path.with_suffix(".tmp")
        key.write_private_key(str(tmp))
        tmp.chmod(0o600)
        tmp.replace(path)
        key.write_public_key(str(path.with_suffix(".pub")))
        keys.append(key)
    return keys
