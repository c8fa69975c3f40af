"""How a command group is declared: ``GROUP = CommandSet("apps", ...)`` and ``@GROUP.command("create")``.

Every command is a click command named ``<group>:<action>``; a bare ``<group>`` runs the group's
default action and its help lists the group's commands ("Valid commands for apps:").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


@dataclass
class CommandSet:
    name: str
    summary: str
    default: str = "list"
    commands: list[click.Command] = field(default_factory=list)

    def command(self, action: str, **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
        settings = {**CONTEXT, **kwargs.pop("context_settings", {})}

        def decorator(f: Callable[..., Any]) -> click.Command:
            name = self.name if action == self.name else f"{self.name}:{action}"
            cmd = click.command(name, cls=click.Command, context_settings=settings, **kwargs)(f)
            self.commands.append(cmd)
            return cmd

        return decorator

    def find(self, action: str) -> click.Command | None:
        for cmd in self.commands:
            if cmd.name in (f"{self.name}:{action}", action):
                return cmd
        return None

    def help_text(self) -> str:
        width = max(len(c.name or "") for c in self.commands) + 4
        lines = [f"Valid commands for {self.name}:", ""]
        for cmd in self.commands:
            lines.append(f"{cmd.name or '':<{width}}{cmd.get_short_help_str(limit=90)}")
        lines += ["", "Use 'deis help [command]' to learn more."]
        return "\n".join(lines)

    def default_command(self) -> click.Command:
        """The bare ``deis <group>`` command: runs the default action, but its help is the group's."""
        target = self.find(self.default) or self.commands[0]
        return GroupCommand(
            self,
            name=self.name,
            params=list(target.params),
            callback=target.callback,
            context_settings=dict(target.context_settings),
            short_help=self.summary,
            help=target.help,
            options_metavar=target.options_metavar,
        )


class GroupCommand(click.Command):
    def __init__(self, group: CommandSet, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.group = group

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if len(self.group.commands) == 1:
            # A one-command group: its options matter more than a one-line listing.
            super().format_help(ctx, formatter)
            formatter.write("\n")
        else:
            formatter.write(self.group.summary[:1].upper() + self.group.summary[1:] + ".\n\n")
        formatter.write(self.group.help_text() + "\n")
