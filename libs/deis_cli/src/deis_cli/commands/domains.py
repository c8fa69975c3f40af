"""domains: bind hostnames to an app."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.session import Session, app_option, limit_option

GROUP = CommandSet("domains", "manage and assign domain names to your applications")


def print_domains(session: Session, app: str, limit: int | None) -> None:
    found, count = session.client.domains(app, session.limit(limit))
    output.header(f"=== {app} Domains{output.limit_suffix(len(found), count)}")
    for domain in found:
        output.echo(str(domain["domain"]))


@GROUP.command("list")
@app_option
@limit_option
def list_domains(app: str | None, limit: int | None) -> None:
    """Lists domains bound to an application."""
    session = Session.current()
    print_domains(session, session.app(app), limit)


@GROUP.command("add")
@app_option
@click.argument("domain", metavar="<domain>")
def add(app: str | None, domain: str) -> None:
    """Binds a domain to an application, e.g. 'deis domains:add www.example.com'."""
    session = Session.current()
    name = session.app(app)
    output.echo(f"Adding {domain} to {name}... ", nl=False)
    with output.progress():
        session.client.post(session.client.app_path(name, "domains"), {"domain": domain})
    output.echo("done")


@GROUP.command("remove")
@app_option
@click.argument("domain", metavar="<domain>")
def remove(app: str | None, domain: str) -> None:
    """Unbinds a domain from an application (and detaches its certificate)."""
    session = Session.current()
    name = session.app(app)
    output.echo(f"Removing {domain} from {name}... ", nl=False)
    with output.progress():
        session.client.delete(session.client.app_path(name, "domains", domain))
    output.echo("done")
