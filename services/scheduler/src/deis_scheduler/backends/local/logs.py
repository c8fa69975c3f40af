"""Forwarding of app output to the app's log stream: ``<time> <app>[<type>.<n>]: <line>``.

The shims write each process's output with timestamps to ``output.log`` (rotated to ``output.log.1``);
this tails those files and appends every new line to ``logs.<app>`` through the event sink. The position
reached (file inode and offset) is kept beside the file, so after a scheduler restart or a rotation
forwarding resumes where it stopped, without losing or repeating lines.
"""

from __future__ import annotations

import contextlib
import os
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
        position = process.dir / "forwarded"
        inode, offset = _read_position(position)
        current = _inode(process.output)
        if current is None:
            return
        if inode != current:
            rotated = process.output.with_name("output.log.1")
            rotated_inode = _inode(rotated)
            if rotated_inode is not None and inode in (None, rotated_inode):
                # finish (or, on the first look, read) the file the shim rotated away first
                await self._send(process, rotated, offset if inode is not None else 0)
            offset = 0
        offset = await self._send(process, process.output, offset)
        with contextlib.suppress(OSError):
            position.write_text(f"{current}:{offset}")

    async def _send(self, process: Process, path: Path, offset: int) -> int:
        while True:
            chunk = _read_from(path, offset)
            end = chunk.rfind(b"\n")
            if end < 0:
                if len(chunk) < MAX_CHUNK:
                    return offset  # a line still being written
                end = len(chunk) - 1  # one enormous line: send it in pieces
            record = process.record
            for raw in chunk[: end + 1].splitlines():
                time, _, text = raw.decode(errors="replace").partition(" ")
                await self.sink.log(record.app, format_line(record.app, record.label, time, text))
            offset += end + 1
            if len(chunk) < MAX_CHUNK:
                return offset

    async def note(self, process: Process, time: str, text: str) -> None:
        """A line from the platform about the process (exits, restarts), in the same format."""
        record = process.record
        await self.sink.log(record.app, format_line(record.app, record.label, time, text))


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(MAX_CHUNK)
    except OSError:
        return b""


def _read_position(path: Path) -> tuple[int | None, int]:
    try:
        inode, _, offset = path.read_text().partition(":")
        return int(inode), int(offset)
    except (OSError, ValueError):
        return None, 0
