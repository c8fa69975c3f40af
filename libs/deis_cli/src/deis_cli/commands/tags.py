"""tags: node labels an app's processes must be placed on (Kubernetes nodeSelector)."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.commands.labels import parse_pairs
from deis_cli.commandset import CommandSet
from deis_cli.session import Session, app_option

GROUP = CommandSet("tags", "manage tags for application containers")


def print_tags(session: Session, app: str) -> None:
    config = session.client.config(app)
    output.header(f"=== {app} Tags")
    output.key_values(dict(config.get("tags") or {}), width=5)


@GROUP.command("list")
@app_option
def list_tags(app: str | None) -> None:
    """Lists tags for an application."""
    session = Session.current()
    print_tags(session, session.app(app))


@GROUP.command("set")
@app_option
@click.argument("pairs", nargs=-1, required=True, metavar="<key>=<value>...")
def set_tags(app: str | None, pairs: tuple[str, ...]) -> None:
    """Sets tags for an application, e.g. 'deis tags:set environ=prod'.

    At least one node must carry the labels, or the controller refuses them.
    """
    session = Session.current()
    name = session.app(app)
    tags = parse_pairs(pairs, "key=value")
    output.echo("Applying tags... ", nl=False)
    with output.progress():
        session.client.set_config(name, {"tags": tags})
    output.echo("done\n")
    print_tags(session, name)


@GROUP.command("unset")
@app_option
@click.argument("keys", nargs=-1, required=True, metavar="<key>...")
def unset_tags(app: str | None, keys: tuple[str, ...]) -> None:
    """Unsets tags for an application."""
    session = Session.current()
    name = session.app(app)
    output.echo("Applying tags... ", nl=False)
    with output.progress():
        session.client.set_config(name, {"tags": dict.fromkeys(keys)})
    output.echo("done\n")
    print_tags(session, name)
