"""tls: https-only requests for an app (the router redirects http to https)."""

from __future__ import annotations

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.session import Session, app_option

GROUP = CommandSet("tls", "manage TLS settings for applications", default="info")


@GROUP.command("info")
@app_option
def info(app: str | None) -> None:
    """Prints the TLS settings of an application."""
    session = Session.current()
    name = session.app(app)
    tls = session.client.get(session.client.app_path(name, "tls"))
    output.header(f"=== {name} TLS")
    enforced = tls.get("https_enforced")
    output.echo(f"HTTPS Enforced: {'true' if enforced else 'false' if enforced is not None else 'not set'}")


def _switch(app: str | None, enable: bool) -> None:
    session = Session.current()
    name = session.app(app)
    verb = "Enabling" if enable else "Disabling"
    output.echo(f"{verb} https-only requests for {name}... ", nl=False)
    with output.progress():
        session.client.post(session.client.app_path(name, "tls"), {"https_enforced": enable})
    output.echo("done")


@GROUP.command("enable")
@app_option
def enable(app: str | None) -> None:
    """Enforces https-only requests: http gets a 301 redirect to https."""
    _switch(app, True)


@GROUP.command("disable")
@app_option
def disable(app: str | None) -> None:
    """Stops enforcing https-only requests."""
    _switch(app, False)
