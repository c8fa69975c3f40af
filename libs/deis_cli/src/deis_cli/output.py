"""Everything the CLI prints: plain lines, headers, tables, the progress spinner and errors.

Colour and the spinner only appear on a terminal; piped output is plain text with the original
wording, so scripts that parse ``deis`` output keep working.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

FRAMES = ("...", "o..", ".o.", "..o")


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, highlight=False, soft_wrap=True, emoji=False)


def is_tty(stream: object = None) -> bool:
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def echo(text: str = "", *, nl: bool = True, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + ("\n" if nl else ""))
    stream.flush()


def header(text: str) -> None:
    """A ``=== …`` header: bold on a terminal, plain otherwise."""
    if is_tty():
        from rich.text import Text

        console().print(Text(text, style="bold cyan"))
    else:
        echo(text)


def limit_suffix(shown: int, total: int) -> str:
    return "" if shown == total else f" ({shown} of {total})"


def key_values(values: dict[str, object], width: int = 6) -> None:
    """``KEY   value`` lines, keys sorted and padded like the original's pretty tabs."""
    if not values:
        return
    pad = max(len(k) for k in values) + width
    for key in sorted(values):
        echo(f"{key:<{pad}}{values[key]}")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table: rich on a terminal, whitespace-aligned columns when piped."""
    if is_tty():
        from rich.table import Table

        t = Table(*headers, box=None, header_style="bold", pad_edge=False)
        for row in rows:
            t.add_row(*row)
        console().print(t)
        return
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for row in [list(headers), *[list(r) for r in rows]]:
        echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


def columns(rows: Sequence[Sequence[str]]) -> None:
    """Tab-writer style columns without a header."""
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        echo(" ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


def error(message: str, prefix: str = "") -> None:
    if is_tty(sys.stderr):
        from rich.text import Text

        err_console = console(stderr=True)
        err_console.print(Text(prefix) + Text("Error: ", style="bold red") + Text(message))
    else:
        echo(f"{prefix}Error: {message}", err=True)


def warning(message: str) -> None:
    echo(message, err=True)


def drink_of_choice() -> str:
    return os.environ.get("DEIS_DRINK_OF_CHOICE") or "coffee"


@contextmanager
def progress() -> Iterator[None]:
    """The original "..." / "o.." spinner, every 400 ms, only on a terminal."""
    if not is_tty():
        yield
        return
    stop = threading.Event()

    def spin() -> None:
        i = 0
        while True:
            sys.stdout.write(FRAMES[i % len(FRAMES)])
            sys.stdout.flush()
            stopped = stop.wait(0.4)
            sys.stdout.write("\b\b\b")
            sys.stdout.flush()
            if stopped:
                return
            i += 1

    thread = threading.Thread(target=spin, name="deis-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
