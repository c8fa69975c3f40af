"""Reading component logs: the last lines of a log file, and following one or more of them.

supervisord writes each program's stdout and stderr to ``<data>/logs/<name>.log`` (and rotates it). This
module only reads those files for ``deis-platform logs`` and for the log tail in health errors; it never
writes or truncates them.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import TextIO

FOLLOW_POLL_SECONDS = 0.2
_CHUNK = 64 * 1024


def tail_lines(path: Path, count: int) -> list[str]:
    """The last ``count`` lines of ``path`` (with their newlines), reading only the end of a large file."""
    if count <= 0:
        return []
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            data = b""
            while end > 0 and data.count(b"\n") <= count:
                start = max(0, end - _CHUNK)
                f.seek(start)
                data = f.read(end - start) + data
                end = start
    except FileNotFoundError:
        return []
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    return list(deque(lines, maxlen=count))


class _Follower:
    """Reads what is appended to one log file, reopening it when supervisord rotates it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._inode: int | None = None
        self._partial = ""

    def _open(self, at_end: bool) -> None:
        try:
            self._file = self.path.open("r", encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        self._inode = os.fstat(self._file.fileno()).st_ino
        if at_end:
            self._file.seek(0, os.SEEK_END)

    def start(self) -> None:
        self._open(at_end=True)

    def read_lines(self) -> list[str]:
        if self._file is None:
            self._open(at_end=False)
            if self._file is None:
                return []
        chunk = self._file.read()
        try:
            rotated = self.path.stat().st_ino != self._inode or self.path.stat().st_size < self._file.tell()
        except FileNotFoundError:
            rotated = True
        if rotated:
            self._file.close()
            self._file = None
        text = self._partial + chunk
        lines = text.splitlines(keepends=True)
        self._partial = lines.pop() if lines and not lines[-1].endswith("\n") else ""
        return lines


def show(paths: dict[str, Path], *, lines: int, follow: bool, out: TextIO = sys.stdout) -> None:
    """Print the last ``lines`` of each log, then (with ``follow``) new lines as they arrive until ^C.

    With more than one log, every line is prefixed with its component name.
    """
    width = max(len(name) for name in paths)

    def emit(name: str, line: str) -> None:
        prefix = f"{name:<{width}} | " if len(paths) > 1 else ""
        out.write(prefix + line if line.endswith("\n") else prefix + line + "\n")

    followers = {name: _Follower(path) for name, path in paths.items()}
    for name, path in paths.items():
        for line in tail_lines(path, lines):
            emit(name, line)
        followers[name].start()
    out.flush()
    if not follow:
        return
    try:
        while True:
            for name, follower in followers.items():
                for line in follower.read_lines():
                    emit(name, line)
            out.flush()
            time.sleep(FOLLOW_POLL_SECONDS)
    except KeyboardInterrupt:
        return
