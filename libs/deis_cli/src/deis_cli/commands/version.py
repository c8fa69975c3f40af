"""version: the client version, and with --all the API versions of client and controller."""

from __future__ import annotations

import click

from deis_cli import __version__, output
from deis_cli.client import API_VERSION
from deis_cli.commandset import CommandSet
from deis_cli.session import Session

GROUP = CommandSet("version", "display client version", default="version")


def print_version(show_all: bool) -> None:
    if not show_all:
        output.echo(f"v{__version__}")
        return
    output.echo(f"Workflow CLI Version:            {__version__}")
    output.echo(f"Workflow CLI API Version:        {API_VERSION}")
    session = Session.current()
    client = session.client
    response = client.request("GET", "/v2/", ok=(401,))
    version = response.headers.get("DEIS_API_VERSION", "unknown")
    output.echo(f"Workflow Controller API Version: {version}")


@GROUP.command("version")
@click.option(
    "-a", "--all", "show_all", is_flag=True, help="Also print the client's and the controller's API versions."
)
def version(show_all: bool) -> None:
    """Displays the client version (and with --all the API versions)."""
    print_version(show_all)
