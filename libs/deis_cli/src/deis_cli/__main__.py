"""Entry point of ``deis``: plugin dispatch, then the click command, with the original error contract.

Every failure prints ``Error: <message>`` on stderr and exits 1; ``apps:run`` exits with the
remote command's code. An unknown ``foo:bar`` command execs ``deis-foo bar ...`` from $PATH.
"""

from __future__ import annotations

import os
import shutil
import sys

import click

from deis_cli import output
from deis_cli.cli import cli, known
from deis_cli.errors import CLIError

GLOBAL_WITH_VALUE = ("-c", "--config")


def command_index(args: list[str]) -> int | None:
    """Position of the command word in argv, skipping the global options before it."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in GLOBAL_WITH_VALUE:
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        return i
    return None


def dispatch_plugin(args: list[str]) -> None:
    index = command_index(args)
    if index is None or known(args[index]) or os.environ.get("_DEIS_COMPLETE"):
        return
    group, _, action = args[index].partition(":")
    plugin = shutil.which(f"deis-{group}")
    if plugin is None:
        output.error("Found no matching command, try 'deis help'\nUsage: deis <command> [<args>...]")
        sys.exit(1)
    rest = ([action] if action else []) + args[index + 1 :]
    os.execvp(plugin, [plugin, *rest])


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    dispatch_plugin(args)
    try:
        code = cli.main(args, prog_name="deis", standalone_mode=False)
    except CLIError as e:
        output.error(e.message, prefix=e.prefix)
        sys.exit(e.exit_code)
    except click.UsageError as e:
        if e.ctx is not None:
            output.echo(e.ctx.get_usage(), err=True)
        output.error(e.format_message())
        sys.exit(1)
    except click.ClickException as e:
        output.error(e.format_message())
        sys.exit(1)
    except click.Abort:
        output.error("Aborted!")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
