"""git: add or remove the app's git remote in the current repository."""

from __future__ import annotations

import click

from deis_cli import gitremote, output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option

GROUP = CommandSet("git", "manage git for applications", default="remote")


@GROUP.command("remote")
@app_option
@click.option(
    "-r", "--remote", default="deis", show_default=True, metavar="<remote>", help="Name of the git remote."
)
@click.option("-f", "--force", is_flag=True, help="Replace a remote of that name that points elsewhere.")
def remote(app: str | None, remote: str, force: bool) -> None:
    """Adds a git remote for an application to the repository in the current directory."""
    session = Session.current()
    name = session.app(app)
    session.client.app(name)
    url = session.remote_url(name)
    existing = gitremote.remotes().get(remote)
    if existing == url:
        output.echo(f"Remote {remote} already exists and is correctly configured for app {name}.")
        return
    if existing is not None and not force:
        raise CLIError(
            f"Remote {remote} already exists, please run 'deis git:remote -f' to overwrite\n"
            f"Existing remote URL: {existing}"
        )
    gitremote.create_remote(remote, url, force=force)
    output.echo(f"Git remote {remote} successfully created for app {name}.")


@GROUP.command("remove")
@app_option
def remove(app: str | None) -> None:
    """Removes every git remote pointing at an application's repository."""
    session = Session.current()
    name = session.app(app)
    removed = gitremote.remove_app_remotes(name)
    if not removed:
        raise CLIError(f"No git remotes for app {name} exist")
    for r in removed:
        output.echo(f"Git remote {r} removed")
