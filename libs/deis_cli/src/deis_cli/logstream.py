"""Printing app log lines, and following them (``deis logs -f``).

Following polls the controller's logs endpoint and prints only the lines not seen before: each
answer is the tail of the app's log buffer, so the new lines are what follows the longest overlap
between the previous answer's end and the new answer's start.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from deis_cli import output

if TYPE_CHECKING:
    from rich.console import Console

LINE_RE = re.compile(r"^(?P<time>\S+) (?P<source>[\w.-]+\[[^\]]+\]:)(?P<rest>.*)$")
BUFFER_LINES = 1000  # what the platform keeps per app
COLOURS = ["cyan", "green", "yellow", "magenta", "blue", "bright_cyan", "bright_green", "bright_magenta"]


def print_line(line: str, console: Console | None = None) -> None:
    match = LINE_RE.match(line)
    if console is None or not match:
        output.echo(line)
        return
    from rich.text import Text

    source = match.group("source")
    colour = COLOURS[sum(map(ord, source.split("[")[1])) % len(COLOURS)]
    console.print(Text(match.group("time") + " ") + Text(source, style=colour) + Text(match.group("rest")))


def new_lines(previous: list[str], current: list[str]) -> list[str]:
    """The lines of ``current`` that come after what ``previous`` already showed."""
    if not previous:
        return current
    for start in range(len(previous)):
        overlap = previous[start:]
        if current[: len(overlap)] == overlap:
            return current[len(overlap) :]
    return current


def follow(
    fetch: Callable[[], str],
    *,
    initial: str,
    interval: float = 1.0,
    console: Console | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    seen = initial.splitlines()
    while not stop():
        time.sleep(interval)
        current = fetch().splitlines()
        for line in new_lines(seen, current):
            print_line(line, console)
        seen = current
