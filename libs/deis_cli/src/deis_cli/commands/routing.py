"""routing: whether the router serves the app at all."""

from __future__ import annotations

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.session import Session, app_option

GROUP = CommandSet("routing", "manage routability of an application", default="info")


@GROUP.command("info")
@app_option
def info(app: str | None) -> None:
    """Tells whether routing is enabled for an application."""
    session = Session.current()
    settings = session.client.settings(session.app(app))
    output.echo(f"Routing is {'enabled' if settings.get('routable', True) else 'disabled'}.")


def _switch(app: str | None, enable: bool) -> None:
    session = Session.current()
    name = session.app(app)
    output.echo(f"{'Enabling' if enable else 'Disabling'} routing for {name}... ", nl=False)
    with output.progress():
        session.client.set_settings(name, {"routable": enable})
    output.echo("done")


@GROUP.command("enable")
@app_option
def enable(app: str | None) -> None:
    """Enables routing: the router serves the app on its domains."""
    _switch(app, True)


@GROUP.command("disable")
@app_option
def disable(app: str | None) -> None:
    """Disables routing: the router answers 404 for the app's domains."""
    _switch(app, False)
