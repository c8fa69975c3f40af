"""The per-process supervisor ("shim"): keeps one sandboxed app process running, independent of the scheduler.

The scheduler starts ``python -m deis_scheduler.backends.local.shim <process dir>``; the shim detaches (double
fork, own session) so that app processes outlive a restart of the scheduler, which re-adopts them from the
process directory. The shim owns, in that directory:

- ``spec.json`` (read): argv, env, cgroups, grace period and restart back-off, written by the scheduler;
- ``status.json`` (written atomically): shim and child pids, state, restarts, last exit, OOM kills;
- ``output.log`` (appended): the process's stdout and stderr, one ``<RFC3339 time> <line>`` per line.

Signals: SIGTERM stops the process (SIGTERM to its process group and cgroup, SIGKILL after the grace period)
and ends the shim; SIGUSR1 restarts the process the same way. A process that exits on its own is restarted
with exponential back-off. Standard library only: this runs once per app process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from deis_scheduler.backends.local import cgroups

STABLE_AFTER = 30.0  # a process that ran this long before crashing restarts with the initial back-off


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Shim:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.spec: dict[str, Any] = json.loads((directory / "spec.json").read_text())
        self.cgroups = cgroups.CgroupPlan(**self.spec.get("cgroups", {}))
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self.restarting = False
        self.status: dict[str, Any] = {"shim_pid": os.getpid(), "state": "starting", "restarts": 0}

    # -- status ----------------------------------------------------------------------------------

    def write_status(self, **changes: Any) -> None:
        self.status.update(changes, updated=now())
        tmp = self.dir / "status.json.tmp"
        tmp.write_text(json.dumps(self.status))
        tmp.replace(self.dir / "status.json")

    # -- signals ---------------------------------------------------------------------------------

    def signal_child(self, sig: int) -> None:
        if self.child is not None and self.child.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.child.pid, sig)
        cgroups.kill_all(self.cgroups, sig)

    def on_term(self, signum: int, _: FrameType | None) -> None:
        if signum == signal.SIGTERM:
            self.stopping = True
        else:
            self.restarting = True
        self.signal_child(signal.SIGTERM)
        signal.setitimer(signal.ITIMER_REAL, float(self.spec.get("grace", 30)))

    def on_alarm(self, *_: Any) -> None:
        self.signal_child(signal.SIGKILL)

    # -- running ---------------------------------------------------------------------------------

    def enter_limits(self) -> None:
        cgroups.join(self.cgroups, self.spec.get("memory_fallback"))

    def run_once(self, out: Any) -> int:
        self.child = subprocess.Popen(
            self.spec["argv"],
            env=self.spec["env"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=self.enter_limits,
            cwd="/",
        )
        self.write_status(state="running", child_pid=self.child.pid, started=now())
        assert self.child.stdout is not None
        for raw in self.child.stdout:
            line = raw.rstrip(b"\r\n").decode(errors="replace")
            out.write(f"{now()} {line}\n")
            out.flush()
        code = self.child.wait()
        signal.setitimer(signal.ITIMER_REAL, 0)
        # Whatever the process left behind in its cgroup goes with it.
        cgroups.kill_all(self.cgroups, signal.SIGKILL)
        return code

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGUSR1, self.on_term)
        signal.signal(signal.SIGALRM, self.on_alarm)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        backoff = initial = float(self.spec.get("backoff", 1.0))
        backoff_max = float(self.spec.get("backoff_max", 60.0))
        self.write_status()
        with open(self.dir / "output.log", "a", encoding="utf-8") as out:
            while not self.stopping:
                started = time.monotonic()
                try:
                    code = self.run_once(out)
                except OSError as e:
                    out.write(f"{now()} cannot start the process: {e}\n")
                    out.flush()
                    code = 127
                if self.stopping:
                    self.write_status(state="stopped", last_exit=code)
                    break
                if self.restarting:
                    self.restarting = False
                    backoff = initial
                    continue
                if time.monotonic() - started > STABLE_AFTER:
                    backoff = initial
                self.write_status(
                    state="crashed",
                    last_exit=code,
                    restarts=self.status["restarts"] + 1,
                    oom_kills=cgroups.oom_kills(self.cgroups),
                    crashed=now(),
                )
                self.sleep(backoff)
                backoff = min(backoff * 2, backoff_max)
        if self.status.get("state") != "stopped":
            self.write_status(state="stopped")
        cgroups.remove(self.cgroups)

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and not self.restarting and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        self.restarting = False


def detach() -> None:
    """Double fork: the shim is nobody's child, so it lives on when the scheduler exits."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)


def main() -> None:
    directory = Path(sys.argv[1])
    detach()
    Shim(directory).run()


if __name__ == "__main__":
    main()
