"""The root ``deis`` command: resolves ``group:action`` names, bare groups, shortcuts and help.

Commands are click commands named ``<group>:<action>`` gathered from ``deis_cli.commands``. Unknown
commands are not handled here: ``__main__`` first hands them to a ``deis-<group>`` plugin on PATH.
"""

from __future__ import annotations

import click

from deis_cli import __version__
from deis_cli.commands import EXTRA_GROUPS, GROUPS
from deis_cli.commandset import CONTEXT, CommandSet
from deis_cli.session import Session
from deis_cli.shortcuts_table import SHORTCUTS

ALL_GROUPS: list[CommandSet] = [*GROUPS, *EXTRA_GROUPS]
COMMANDS: dict[str, click.Command] = {c.name or "": c for g in ALL_GROUPS for c in g.commands}
GROUP_BY_NAME: dict[str, CommandSet] = {g.name: g for g in ALL_GROUPS}

INTRO = """The Deis command-line client issues API calls to a Deis controller.

Usage: deis <command> [<args>...]

Options:
  -h --help              display help information
  -v --version           display client version
  -c --config=<config>   path to configuration file. Equivalent to setting $DEIS_PROFILE.
                         Defaults to ~/.deis/client.json. A bare name (not ending in .json)
                         means ~/.deis/<name>.json.
"""


def resolve(name: str) -> click.Command | None:
    name = SHORTCUTS.get(name, name)
    if name in COMMANDS:
        return COMMANDS[name]
    if name in GROUP_BY_NAME:
        return GROUP_BY_NAME[name].default_command()
    return None


def known(name: str) -> bool:
    return name in ("help", "completion") or resolve(name) is not None


class DeisCLI(click.Group):
    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        return resolve(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*COMMANDS, *GROUP_BY_NAME, *SHORTCUTS, *self.commands])

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write(INTRO)
        for group in ALL_GROUPS:
            formatter.write(f"\n{group.summary[:1].upper() + group.summary[1:]} ")
            formatter.write(f"(use 'deis help {group.name}' to learn more):\n\n")
            width = 26
            for cmd in group.commands:
                formatter.write(f"  {cmd.name or '':<{width}}{cmd.get_short_help_str(limit=80)}\n")
        formatter.write("\nShortcut commands, use 'deis shortcuts' to see all of them.\n")
        formatter.write("\nUse 'deis help [command]' to learn more about a command.\n")
        formatter.write("Unknown commands 'foo:bar' run a 'deis-foo' plugin from $PATH.\n")


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"v{__version__}")
        ctx.exit(0)


@click.group(cls=DeisCLI, context_settings=CONTEXT, invoke_without_command=True)
@click.option(
    "-c",
    "--config",
    "config",
    metavar="<config>",
    envvar="DEIS_PROFILE",
    help="Profile to use: a path ending in .json, or a name in ~/.deis.",
)
@click.option(
    "-v",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Display the client version.",
)
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """The Deis command-line client issues API calls to a Deis controller."""
    ctx.obj = Session(config=config)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command("help", context_settings=CONTEXT)
@click.argument("command", required=False, metavar="[<command>]")
@click.pass_context
def help_command(ctx: click.Context, command: str | None) -> None:
    """Shows help for deis or for one command or group."""
    root = ctx.find_root()
    if not command:
        click.echo(root.get_help())
        return
    target = resolve(command) or cli.get_command(root, command)
    if target is None:
        raise click.UsageError("Found no matching command, try 'deis help'")
    with click.Context(target, info_name=SHORTCUTS.get(command, command), parent=root) as sub:
        click.echo(target.get_help(sub))


@cli.command("completion", context_settings=CONTEXT)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]), default="bash")
def completion(shell: str) -> None:
    """Prints the shell completion script: eval "$(deis completion bash)"."""
    from click.shell_completion import get_completion_class

    comp_cls = get_completion_class(shell)
    if comp_cls is None:
        raise click.UsageError(f"no completion for {shell}")
    comp = comp_cls(cli, {}, "deis", "_DEIS_COMPLETE")
    click.echo(comp.source())
