"""whitelist: the addresses allowed to reach an app (everyone else gets 403)."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.session import Session, app_option

GROUP = CommandSet("whitelist", "manage whitelisted addresses of an application")


def _addresses(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


@GROUP.command("list")
@app_option
def list_whitelist(app: str | None) -> None:
    """Lists the whitelisted addresses of an application."""
    session = Session.current()
    name = session.app(app)
    found = session.client.get(session.client.app_path(name, "whitelist"))
    output.header(f"=== {name} Whitelisted Addresses")
    for address in found.get("addresses") or []:
        output.echo(str(address))


@GROUP.command("add")
@app_option
@click.argument("addresses", metavar="<addresses>")
def add(app: str | None, addresses: str) -> None:
    """Adds addresses (comma separated IPs or CIDRs) to an application's whitelist."""
    session = Session.current()
    name = session.app(app)
    output.echo(f"Adding {addresses} to {name} whitelist... ", nl=False)
    with output.progress():
        session.client.post(session.client.app_path(name, "whitelist"), {"addresses": _addresses(addresses)})
    output.echo("done")


@GROUP.command("remove")
@app_option
@click.argument("addresses", metavar="<addresses>")
def remove(app: str | None, addresses: str) -> None:
    """Removes addresses (comma separated) from an application's whitelist."""
    session = Session.current()
    name = session.app(app)
    output.echo(f"Removing {addresses} from {name} whitelist... ", nl=False)
    with output.progress():
        session.client.delete(
            session.client.app_path(name, "whitelist"), {"addresses": _addresses(addresses)}
        )
    output.echo("done")
