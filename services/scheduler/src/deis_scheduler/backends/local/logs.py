"""Forwarding of app output to the app's log stream: ``<time> <app>[<type>.<n>]: <line>``.

The shims write each process's output with timestamps to ``output.log``; this tails those files and appends
every new line to ``logs.<app>`` through the event sink. The forwarded offset is kept beside the file, so
after a scheduler restart forwarding resumes where it stopped, without losing or repeating lines.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from deis_scheduler.backends.base import EventSink
from deis_scheduler.backends.local.process import Process

MAX_CHUNK = 256 * 1024


def format_line(app: str, label: str, time: str, text: str) -> str:
    return f"{time} {app}[{label}]: {text}"


class LogForwarder:
    def __init__(self, sink: EventSink) -> None:
        self.sink = sink

    async def forward(self, process: Process) -> None:
        """Send whatever complete lines the process wrote since the last call."""
        offset_file = process.dir / "forwarded"
        offset = _read_offset(offset_file)
        chunk = _read_from(process.output, offset)
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        record = process.record
        for raw in chunk[: end + 1].splitlines():
            time, _, text = raw.decode(errors="replace").partition(" ")
            await self.sink.log(record.app, format_line(record.app, record.label, time, text))
        with contextlib.suppress(OSError):
            offset_file.write_text(str(offset + end + 1))

    async def note(self, process: Process, time: str, text: str) -> None:
        """A line from the platform about the process (exits, restarts), in the same format."""
        record = process.record
        await self.sink.log(record.app, format_line(record.app, record.label, time, text))


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(MAX_CHUNK)
    except OSError:
        return b""


def _read_offset(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (OSError, ValueError):
        return 0
