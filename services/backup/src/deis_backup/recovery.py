"""WAL replay onto a restored base backup, by a private Postgres server that runs until recovery ends.

A restore is only finished when the WAL has been replayed: a server left to replay on its own would
accept read-only connections while still in recovery, and the platform would start against it. So the
restore runs Postgres itself, reachable by nobody (no TCP, a private socket directory), with
``recovery.signal``, ``restore_command = deis-backup wal-fetch %f %p`` and, for a point-in-time restore,
``recovery_target_time``. Postgres removes ``recovery.signal`` when it promotes; then the server is shut
down cleanly and the data directory is an ordinary cluster. If Postgres stops instead (a corrupted or
missing WAL file, a target that the archive does not reach) the restore fails with the server's reasons.

While it replays, the server archives through ``deis-backup wal-push`` too, so the new timeline's history
file reaches the store and later restores can follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from deis_backup.basebackup import pg_binary
from deis_backup.errors import RecoveryFailed
from deis_backup.server_user import make_traversable

SIGNAL_FILE = "recovery.signal"
_POLL_SECONDS = 0.2
_LAST_TRANSACTION = re.compile(r"last completed transaction was at log time (.+)$", re.MULTILINE)
# Only reachable through the private socket directory, so the default port never clashes.
_PORT = 5432


def self_command(config_file: Path | None) -> str:
    """This tool as a shell command prefix for Postgres's archive and restore commands."""
    beside = Path(sys.executable).with_name("deis-backup")
    argv = [str(beside)] if beside.exists() else [sys.executable, "-m", "deis_backup"]
    if config_file is not None:
        argv += ["--config", str(config_file.resolve())]
    return shlex.join(argv)


@dataclass(frozen=True)
class Replay:
    data_dir: Path
    command: str
    """``self_command()``: how the server calls ``deis-backup``."""
    target_time: datetime | None = None
    user: str | None = None
    timeout: float = 3600.0
    log_path: Path | None = None
    """Where the server's log goes (kept for the operator); None: a temporary file."""

    def settings(self, socket_dir: Path) -> dict[str, str]:
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(socket_dir),
            "hot_standby": "off",
            "logging_collector": "off",
            "log_destination": "stderr",
            "restore_command": f"{self.command} wal-fetch %f %p",
            "archive_mode": "on",
            "archive_command": f"{self.command} wal-push %p",
            "archive_timeout": "0",
            "recovery_target_timeline": "latest",
            "recovery_target_action": "promote",
        }
        if self.target_time is not None:
            settings["recovery_target_time"] = self.target_time.isoformat(sep=" ")
            settings["recovery_target_inclusive"] = "on"
        return settings


async def replay(plan: Replay) -> None:
    """Replay archived WAL onto the base backup in ``plan.data_dir``; returns once it is a normal cluster."""
    (plan.data_dir / SIGNAL_FILE).write_bytes(b"")
    with tempfile.TemporaryDirectory(prefix="deis-restore-") as scratch:
        socket_dir = Path(scratch)
        log_path = plan.log_path or socket_dir / "postgres.log"
        if plan.user is not None:
            shutil.chown(socket_dir, plan.user, plan.user)
            make_traversable(plan.data_dir.parent)
        argv = [pg_binary("postgres"), "-D", str(plan.data_dir), "-p", str(_PORT)]
        for key, value in plan.settings(socket_dir).items():
            argv += ["-c", f"{key}={value}"]
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                user=plan.user,
                group=plan.user,
                extra_groups=[] if plan.user is not None else None,
                cwd="/",
            )
        try:
            await _wait_promoted(process, plan, socket_dir, log_path)
            process.send_signal(signal.SIGINT)  # "fast" shutdown: checkpoint and exit
            try:
                async with asyncio.timeout(120):
                    code = await process.wait()
            except TimeoutError:
                raise RecoveryFailed(
                    f"Postgres did not shut down after recovery:\n{_tail(log_path)}"
                ) from None
            if code != 0:
                raise RecoveryFailed(
                    f"Postgres failed to shut down after recovery (exit {code}):\n{_tail(log_path)}"
                )
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGQUIT)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(30):
                        await process.wait()
                if process.returncode is None:
                    process.kill()
                    await process.wait()


async def _wait_promoted(
    process: asyncio.subprocess.Process, plan: Replay, socket_dir: Path, log_path: Path
) -> None:
    """Wait until the server left recovery *and* accepts connections.

    ``recovery.signal`` disappears before the end of recovery is durable; a shutdown in between would
    make the next start replay the local WAL past the recovery target. With ``hot_standby`` off the
    server accepts connections only once it runs as a primary, so that is the signal to wait for.
    """
    deadline = time.monotonic() + plan.timeout
    signal_file = plan.data_dir / SIGNAL_FILE
    while signal_file.exists() or not await _accepting(socket_dir):
        if process.returncode is not None:
            raise RecoveryFailed(f"{_diagnosis(log_path, plan)}; Postgres said:\n{_tail(log_path)}")
        if time.monotonic() > deadline:
            raise RecoveryFailed(f"WAL replay took longer than {plan.timeout:.0f}s:\n{_tail(log_path)}")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_POLL_SECONDS):
                await process.wait()


async def _accepting(socket_dir: Path) -> bool:
    probe = await asyncio.create_subprocess_exec(
        pg_binary("pg_isready"),
        "-q",
        "-h",
        str(socket_dir),
        "-p",
        str(_PORT),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await probe.wait() == 0


def _diagnosis(log_path: Path, plan: Replay) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "WAL replay failed"
    if plan.target_time is not None and "before configured recovery target was reached" in text:
        last = _LAST_TRANSACTION.findall(text)
        at = f" (the last archived transaction is from {last[-1]})" if last else ""
        return (
            f"the archive ends before {plan.target_time.isoformat()}{at}; "
            "restore without --target-time for the latest archived state"
        )
    return "WAL replay failed"


def _tail(log_path: Path, lines: int = 25) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    kept = [line for line in text.splitlines() if line.strip()]
    # Our own diagnostics (wal-fetch's reasons) and the server's fatal errors first, then the latest lines.
    notable = [line for line in kept if line.startswith("deis-backup") or "FATAL" in line or "PANIC" in line]
    recent = [line for line in kept[-lines:] if line not in notable]
    return "\n".join("  " + line for line in [*notable[-lines:], *recent])
