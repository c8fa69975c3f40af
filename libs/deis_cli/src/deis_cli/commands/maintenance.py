"""maintenance: serve a 503 maintenance page instead of the app (processes keep running)."""

from __future__ import annotations

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.session import Session, app_option

GROUP = CommandSet("maintenance", "enable or disable maintenance mode for an app", default="info")


@GROUP.command("info")
@app_option
def info(app: str | None) -> None:
    """Tells whether maintenance mode is on for an application."""
    session = Session.current()
    settings = session.client.settings(session.app(app))
    output.echo(f"Maintenance mode is {'on' if settings.get('maintenance') else 'off'}.")


def _switch(app: str | None, on: bool) -> None:
    session = Session.current()
    name = session.app(app)
    output.echo(f"{'Enabling' if on else 'Disabling'} maintenance mode for {name}... ", nl=False)
    with output.progress():
        session.client.set_settings(name, {"maintenance": on})
    output.echo("done")


@GROUP.command("on")
@app_option
def on(app: str | None) -> None:
    """Turns maintenance mode on: visitors get a 503 maintenance page."""
    _switch(app, True)


@GROUP.command("off")
@app_option
def off(app: str | None) -> None:
    """Turns maintenance mode off."""
    _switch(app, False)
