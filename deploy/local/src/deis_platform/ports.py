"""Choosing the loopback ports the platform listens on.

Every listener has a well-known default (ARCHITECTURE §10). A default that is already taken by something
else on the machine (a system NATS on 4222 or Postgres on 5432 is common) moves to a free port, and the
choice is written to the state file so that the next ``up`` reuses it: URLs a user copied, git remotes
and the CLI's saved controller URL keep working across ``down``/``up``.

This module only decides numbers; it never starts a listener that outlives the check.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

HOST = "127.0.0.1"

# Role → default port. The role names are the keys of the state file's "ports" object.
DEFAULT_PORTS: dict[str, int] = {
    "nats": 4222,
    "nats_monitor": 8222,
    "postgres": 5432,
    "controller": 8000,
    "router_http": 8080,
    "router_https": 8443,
    "builder_ssh": 2222,
    "builder": 8092,
    "scheduler": 8093,
    "router_sync": 8094,
    "backup": 8095,
}


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when a server could bind ``host:port`` right now.

    SO_REUSEADDR mirrors what the servers themselves set, so a port only held by TIME_WAIT
    connections of a previous run still counts as free (and a listening one does not).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _ephemeral_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def allocate_ports(recorded: Mapping[str, int] | None = None) -> dict[str, int]:
    """Pick a port per role: the recorded one if still free, else the default if free, else any free one.

    ``recorded`` is what the state file remembers from the last ``up``; roles missing from it (a newer
    launcher added a listener) get a fresh choice. No two roles share a port.
    """
    recorded = recorded or {}
    chosen: dict[str, int] = {}
    for role, default in DEFAULT_PORTS.items():
        taken = set(chosen.values())
        candidates = [p for p in (recorded.get(role), default) if p is not None]
        port = next((p for p in candidates if p not in taken and port_is_free(p)), None)
        while port is None or port in taken:
            port = _ephemeral_port()
        chosen[role] = port
    return chosen


def tcp_accepts(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
