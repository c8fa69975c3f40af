"""events: stream the platform's events (``deis.v1.>``) as JSON lines, through the controller.

``GET /v2/events`` on the controller streams the events of the apps the logged-in user may see (owner,
collaborator; admins see everything) with config values and other secrets redacted; users never talk to
NATS themselves. Log lines and build output are not events and never appear here.
"""

from __future__ import annotations

import json

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session

GROUP = CommandSet("events", "stream platform events", default="watch")

SUBJECT = "deis.v1.>"


@GROUP.command("watch")
@click.option("-a", "--app", "app", metavar="<app>", help="Only events about this app.")
@click.option(
    "-t",
    "--type",
    "types",
    multiple=True,
    metavar="<type>",
    help="Only this type: a subject (deis.v1.builds.completed), 'builds.completed' or a family ('builds').",
)
@click.option("-n", "--count", default=0, metavar="<num>", help="Exit after this many events (0: never).")
def watch(app: str | None, types: tuple[str, ...], count: int) -> None:
    """Streams platform events as JSON lines (CloudEvents envelopes).

    Shows the events of the apps you may see, with config values and keys redacted.
    Example: 'deis events --app web --type builds'.
    """
    client = Session.current().client

    def opened() -> None:
        output.echo(f"Watching {SUBJECT} on {client.controller} (Ctrl-C stops)", err=True)

    shown = 0
    try:
        for envelope in client.events(app, types, on_open=opened):
            output.echo(json.dumps(envelope))
            shown += 1
            if 0 < count <= shown:
                return
    except KeyboardInterrupt:
        return
    raise CLIError(f"The controller at {client.controller} ended the event stream")
