"""Liveness and readiness probes: their Kubernetes-style config, the documented defaults, and the checks.

Config follows the Kubernetes probe shape that ``deis healthchecks:set`` stores (``httpGet`` with path, port
and headers, ``tcpSocket``, ``exec`` with a command, plus ``initialDelaySeconds``, ``timeoutSeconds``,
``periodSeconds``, ``successThreshold``, ``failureThreshold``). Routable types without a readiness probe
get the default one: an HTTP answer, whatever its status, on ``PORT`` (a bound port alone is not enough: a
server whose workers failed to start accepts connections and never answers). Exec probes run through a
callable the backend provides, since only the backend knows how to run a command next to a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from deis_common.events.state import AppState
from deis_scheduler.desired import healthcheck_config, is_routable

ExecRunner = Callable[[list[str], float], Awaitable[int]]


@dataclass(frozen=True)
class Probe:
    kind: Literal["http", "tcp", "exec"]
    port: int | None = None
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ()
    initial_delay: float = 0.0
    timeout: float = 1.0
    period: float = 10.0
    success_threshold: int = 1
    failure_threshold: int = 3
    any_status: bool = False
    """An HTTP answer with any status passes (the default readiness), not only 200-399."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Probe:
        """Parse a Kubernetes probe; ``port`` None means the process's ``PORT``."""
        timing: dict[str, Any] = {
            "initial_delay": float(config.get("initialDelaySeconds", 0)),
            "timeout": float(config.get("timeoutSeconds", 1)),
            "period": float(config.get("periodSeconds", 10)),
            "success_threshold": int(config.get("successThreshold", 1)),
            "failure_threshold": int(config.get("failureThreshold", 3)),
        }
        if "httpGet" in config:
            spec = config["httpGet"] or {}
            headers = {h["name"]: str(h["value"]) for h in spec.get("httpHeaders", []) if "name" in h}
            return cls(
                "http", port=_port(spec.get("port")), path=spec.get("path") or "/", headers=headers, **timing
            )
        if "tcpSocket" in config:
            return cls("tcp", port=_port((config["tcpSocket"] or {}).get("port")), **timing)
        if "exec" in config:
            command = (config["exec"] or {}).get("command") or []
            if not command:
                raise ValueError("an exec probe needs a command")
            return cls("exec", command=tuple(str(c) for c in command), **timing)
        raise ValueError("a probe needs one of httpGet, tcpSocket or exec")


def _port(value: Any) -> int | None:
    if value is None or value == "" or (isinstance(value, str) and not value.isdigit()):
        return None  # a missing or named port means PORT
    return int(value)


# Locally processes start in well under a second, so the default readiness probe polls quickly; an app
# whose first answer is slow gets Workflow's 5 s per attempt.
DEFAULT_READINESS = Probe("http", timeout=5.0, period=0.01, failure_threshold=1, any_status=True)


@dataclass(frozen=True)
class Probes:
    readiness: Probe | None
    liveness: Probe | None


def probes_for(state: AppState, ptype: str) -> Probes:
    config = healthcheck_config(state, ptype)
    readiness = config.get("readinessProbe")
    liveness = config.get("livenessProbe")
    ready = Probe.from_config(readiness) if readiness else None
    if ready is None and is_routable(ptype):
        ready = DEFAULT_READINESS
    return Probes(readiness=ready, liveness=Probe.from_config(liveness) if liveness else None)


async def check(probe: Probe, *, host: str, port: int | None, run_exec: ExecRunner | None = None) -> bool:
    """One probe attempt; True when it passes within the probe's timeout."""
    return await attempt(probe, host=host, port=port, run_exec=run_exec) is None


async def attempt(
    probe: Probe, *, host: str, port: int | None, run_exec: ExecRunner | None = None
) -> str | None:
    """One probe attempt: None when it passes within the probe's timeout, else what went wrong."""
    target = probe.port or port
    where = f"{host}:{target}"
    try:
        async with asyncio.timeout(probe.timeout):
            if probe.kind == "tcp":
                return await _tcp(host, target)
            if probe.kind == "http":
                return await _http(host, target, probe)
            if run_exec is None:
                return "exec probes cannot run here"
            code = await run_exec(list(probe.command), probe.timeout)
            return None if code == 0 else f"{' '.join(probe.command)!r} exited with status {code}"
    except TimeoutError:
        what = " ".join(probe.command) if probe.kind == "exec" else where
        return f"{probe.kind} probe of {what} timed out after {probe.timeout:g}s"
    except OSError as e:
        return f"cannot connect to {where}: {os.strerror(e.errno) if e.errno else e}"


async def _tcp(host: str, port: int | None) -> str | None:
    if port is None:
        return "no port to probe (the process has no PORT)"
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return None


async def _http(host: str, port: int | None, probe: Probe) -> str | None:
    """HTTP GET; like Kubernetes, any status from 200 to 399 passes."""
    if port is None:
        return "no port to probe (the process has no PORT)"
    reader, writer = await asyncio.open_connection(host, port)
    try:
        headers = {"Host": f"{host}:{port}", "User-Agent": "deis-probe", "Connection": "close"}
        headers.update(probe.headers)
        request = f"GET {probe.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write((request + "\r\n").encode())
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    url = f"http://{host}:{port}{probe.path}"
    parts = status_line.split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return f"GET {url} got no HTTP answer"
    if probe.any_status or 200 <= int(parts[1]) < 400:
        return None
    return f"GET {url} answered {int(parts[1])}"
