"""The per-process supervisor ("shim"): keeps one sandboxed app process running, independent of the scheduler.

The scheduler starts ``python -S .../shim.py <process dir>`` (no site-packages: it starts in a few
milliseconds and needs only the standard library and :mod:`deis_common.cgroups`); the shim detaches (double
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
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

# Started as a file with ``python -S`` (fast, no site-packages): the fork server puts deis_common on
# PYTHONPATH.
from deis_common import cgroups

MAX_OUTPUT = 8 * 1024 * 1024  # bytes of output.log before it is rotated (one old file is kept)
ORPHAN_CHECK = 2.0  # seconds between checks that the process directory still exists
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
        self.status: dict[str, Any] = {
            "shim_pid": os.getpid(),
            "shim_start": own_start_time(),
            "state": "starting",
            "restarts": 0,
        }

    # -- status ----------------------------------------------------------------------------------

    def write_status(self, **changes: Any) -> None:
        self.status.update(changes, updated=now())
        tmp = self.dir / "status.json.tmp"
        with contextlib.suppress(FileNotFoundError):  # the directory is gone: we are stopping anyway
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

    def run_once(self, out: TextIO) -> int:
        self.child = subprocess.Popen(
            [*cgroups.entering(self.cgroups, self.spec.get("memory_fallback")), *self.spec["argv"]],
            env=self.spec["env"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd="/",
        )
        self.write_status(state="running", child_pid=self.child.pid, started=now())
        assert self.child.stdout is not None
        for raw in self.child.stdout:
            line = raw.rstrip(b"\r\n").decode(errors="replace")
            out = self.output(out)
            out.write(f"{now()} {line}\n")
            out.flush()
        code = self.child.wait()
        signal.setitimer(signal.ITIMER_REAL, 0)
        # Whatever the process left behind in its cgroup goes with it.
        cgroups.kill_all(self.cgroups, signal.SIGKILL)
        return code

    def output(self, out: TextIO) -> TextIO:
        """The output file to write to, rotated to ``output.log.1`` once it reaches ``max_output`` bytes."""
        if out.tell() < int(self.spec.get("max_output", MAX_OUTPUT)):
            return out
        out.close()
        with contextlib.suppress(OSError):
            (self.dir / "output.log").replace(self.dir / "output.log.1")
        self._out = open(self.dir / "output.log", "a", encoding="utf-8")  # noqa: SIM115
        return self._out

    def watch_directory(self) -> None:
        """Stop when the process directory disappears: nobody could manage or re-adopt this process."""
        while not self.stopping:
            time.sleep(ORPHAN_CHECK)
            if not (self.dir / "spec.json").exists():
                os.kill(os.getpid(), signal.SIGTERM)
                return

    def run(self) -> None:
        with contextlib.suppress(OSError):
            Path("/proc/self/comm").write_text("deis-shim")
        threading.Thread(target=self.watch_directory, name="orphan-check", daemon=True).start()
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGUSR1, self.on_term)
        signal.signal(signal.SIGALRM, self.on_alarm)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        backoff = initial = float(self.spec.get("backoff", 1.0))
        backoff_max = float(self.spec.get("backoff_max", 60.0))
        self.write_status()
        self._out = open(self.dir / "output.log", "a", encoding="utf-8")  # noqa: SIM115
        try:
            while not self.stopping:
                started = time.monotonic()
                try:
                    code = self.run_once(self._out)
                except OSError as e:
                    self._out.write(f"{now()} cannot start the process: {e}\n")
                    self._out.flush()
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
        finally:
            self._out.close()
        if self.status.get("state") != "stopped":
            self.write_status(state="stopped")
        cgroups.remove(self.cgroups)

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and not self.restarting and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        self.restarting = False


def own_start_time() -> int:
    """This process's start time in clock ticks since boot: with the pid, it names the process uniquely."""
    return start_time(os.getpid()) or 0


def start_time(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]) if fields[0] != "Z" else None


def become_shim(directory: Path) -> None:
    """In a freshly forked child: detach from the caller, redirect stdio, supervise ``directory``."""
    try:
        os.setsid()
        if os.fork() > 0:
            os._exit(0)
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(directory / "shim.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 65536)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        Shim(directory).run()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(0)


def serve() -> None:
    """Fork server: the scheduler sends process directories, one per line; each becomes a detached shim.

    Forking from this small, single-threaded, already-started interpreter takes a millisecond, where
    starting a new interpreter per process would take tens. The answer line comes once the shim is detached.
    """
    while line := sys.stdin.readline():
        directory = Path(line.strip())
        pid = os.fork()
        if pid == 0:
            become_shim(directory)
        os.waitpid(pid, 0)
        sys.stdout.write(f"{directory}\n")
        sys.stdout.flush()


def main() -> None:
    if sys.argv[1:] == ["--serve"]:
        serve()
        return
    if os.fork() > 0:
        return
    become_shim(Path(sys.argv[1]))


if __name__ == "__main__":
    main()
