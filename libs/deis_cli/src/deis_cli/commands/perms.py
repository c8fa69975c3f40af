"""perms: collaborators of an app, and platform administrators (--admin)."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option, limit_option

GROUP = CommandSet("perms", "manage permissions for applications")

admin_option = click.option(
    "--admin", is_flag=True, help="Work on platform administrators instead of an app."
)


def _check(app: str | None, admin: bool) -> None:
    if app and admin:
        raise CLIError("Give either --app or --admin, not both")


@GROUP.command("list")
@app_option
@admin_option
@limit_option
def list_perms(app: str | None, admin: bool, limit: int | None) -> None:
    """Lists the users who may use an application (or the administrators, with --admin)."""
    _check(app, admin)
    session = Session.current()
    if admin:
        found, count = session.client.page("/v2/admin/perms/", session.limit(limit))
        output.header(f"=== Administrators{output.limit_suffix(len(found), count)}")
        for user in found:
            output.echo(str(user.get("username")))
        return
    name = session.app(app)
    body = session.client.get(session.client.app_path(name, "perms"))
    output.header(f"=== {name}'s Users")
    for user in body.get("users") or []:
        output.echo(str(user))


@GROUP.command("create")
@click.argument("username", metavar="<username>")
@app_option
@admin_option
def create(username: str, app: str | None, admin: bool) -> None:
    """Gives a user permission to use an application (or makes them an administrator, with --admin)."""
    _check(app, admin)
    session = Session.current()
    if admin:
        output.echo(f"Adding {username} to system administrators... ", nl=False)
        session.client.post("/v2/admin/perms/", {"username": username})
    else:
        name = session.app(app)
        output.echo(f"Adding {username} to {name} collaborators... ", nl=False)
        session.client.post(session.client.app_path(name, "perms"), {"username": username})
    output.echo("done")


@GROUP.command("delete")
@click.argument("username", metavar="<username>")
@app_option
@admin_option
def delete(username: str, app: str | None, admin: bool) -> None:
    """Revokes a user's permission to use an application (or administrator rights, with --admin)."""
    _check(app, admin)
    session = Session.current()
    if admin:
        output.echo(f"Removing {username} from system administrators... ", nl=False)
        session.client.delete(f"/v2/admin/perms/{username}")
    else:
        name = session.app(app)
        output.echo(f"Removing {username} from {name} collaborators... ", nl=False)
        session.client.delete(session.client.app_path(name, "perms", username))
    output.echo("done")
