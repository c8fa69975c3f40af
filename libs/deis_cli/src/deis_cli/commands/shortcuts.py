"""shortcuts: the aliases ``deis`` accepts for common commands."""

from __future__ import annotations

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.shortcuts_table import SHORTCUTS

GROUP = CommandSet("shortcuts", "show valid shortcuts for commands")


@GROUP.command("list")
def list_shortcuts() -> None:
    """Lists all the valid shortcuts for commands."""
    output.header("=== Shortcuts")
    width = max(len(k) for k in SHORTCUTS) + 2
    for short in sorted(SHORTCUTS):
        output.echo(f"{short:<{width}}-> {SHORTCUTS[short]}")
