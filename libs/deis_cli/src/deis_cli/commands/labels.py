"""labels: informational key=value metadata on an app (team, git_repo, ...)."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option

GROUP = CommandSet("labels", "manage labels of application")


def print_labels(session: Session, app: str) -> None:
    settings = session.client.settings(app)
    found = settings.get("label") or {}
    output.header(f"=== {app} Label")
    if not found:
        output.echo("No labels found.")
        return
    output.key_values({k: v for k, v in found.items()}, width=2)


def parse_pairs(pairs: tuple[str, ...], what: str = "key=value") -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"'{pair}' does not match the pattern '{what}', ex: team=frontend")
        parsed[key] = value
    return parsed


@GROUP.command("list")
@app_option
def list_labels(app: str | None) -> None:
    """Lists labels for an application."""
    session = Session.current()
    print_labels(session, session.app(app))


@GROUP.command("set")
@app_option
@click.argument("pairs", nargs=-1, required=True, metavar="<key>=<value>...")
def set_labels(app: str | None, pairs: tuple[str, ...]) -> None:
    """Adds labels to an application, e.g. 'deis labels:set team=frontend git_repo=...'."""
    session = Session.current()
    name = session.app(app)
    values = parse_pairs(pairs)
    output.echo("Applying labels... ", nl=False)
    with output.progress():
        session.client.set_settings(name, {"label": values})
    output.echo("done\n")
    print_labels(session, name)


@GROUP.command("unset")
@app_option
@click.argument("keys", nargs=-1, required=True, metavar="<key>...")
def unset_labels(app: str | None, keys: tuple[str, ...]) -> None:
    """Removes labels from an application."""
    session = Session.current()
    name = session.app(app)
    output.echo("Removing labels... ", nl=False)
    with output.progress():
        session.client.set_settings(name, {"label": dict.fromkeys(keys)})
    output.echo("done\n")
    print_labels(session, name)
