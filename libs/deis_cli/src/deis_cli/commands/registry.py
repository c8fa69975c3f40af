"""registry: credentials for pulling an app's image from a private Docker registry."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.commands.labels import parse_pairs
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option

GROUP = CommandSet("registry", "manage private registry information for your application")

ALLOWED = ("username", "password")


def print_registry(session: Session, app: str) -> None:
    config = session.client.config(app)
    output.header(f"=== {app} Registry")
    output.key_values(dict(config.get("registry") or {}), width=5)


def _check_keys(keys: list[str]) -> None:
    for key in keys:
        if key.lower() not in ALLOWED:
            raise CLIError(f"{key} is not a valid registry key; use username or password")


@GROUP.command("list")
@app_option
def list_registry(app: str | None) -> None:
    """Lists private registry information for an application."""
    session = Session.current()
    print_registry(session, session.app(app))


@GROUP.command("set")
@app_option
@click.argument("pairs", nargs=-1, required=True, metavar="<key>=<value>...")
def set_registry(app: str | None, pairs: tuple[str, ...]) -> None:
    """Sets private registry credentials, e.g. 'deis registry:set username=bob password=s3cret'.

    The app's PORT must be set in its config first.
    """
    session = Session.current()
    name = session.app(app)
    values = parse_pairs(pairs, "key=value")
    _check_keys(list(values))
    output.echo("Applying registry information... ", nl=False)
    with output.progress():
        session.client.set_config(name, {"registry": values})
    output.echo("done\n")
    print_registry(session, name)


@GROUP.command("unset")
@app_option
@click.argument("keys", nargs=-1, required=True, metavar="<key>...")
def unset_registry(app: str | None, keys: tuple[str, ...]) -> None:
    """Unsets private registry information for an application."""
    session = Session.current()
    name = session.app(app)
    _check_keys(list(keys))
    output.echo("Applying registry information... ", nl=False)
    with output.progress():
        session.client.set_config(name, {"registry": dict.fromkeys(keys)})
    output.echo("done\n")
    print_registry(session, name)
