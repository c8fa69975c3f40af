"""releases: an app's release history, and rollback."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option, limit_option

GROUP = CommandSet("releases", "manage releases of an application")


def parse_version(value: str) -> int:
    text = value[1:] if value.lower().startswith("v") else value
    if not text.isdigit():
        raise CLIError(f"{value} is not a valid version, ex: v2")
    return int(text)


@GROUP.command("list")
@app_option
@limit_option
def list_releases(app: str | None, limit: int | None) -> None:
    """Lists release history for an application."""
    session = Session.current()
    name = session.app(app)
    found, count = session.client.releases(name, session.limit(limit))
    output.header(f"=== {name} Releases{output.limit_suffix(len(found), count)}")
    output.columns(
        [[f"v{r['version']}", str(r.get("created", "")), str(r.get("summary", ""))] for r in found]
    )


@GROUP.command("info")
@app_option
@click.argument("version", metavar="<version>")
def info(app: str | None, version: str) -> None:
    """Prints info about a particular release, e.g. 'deis releases:info v2'."""
    session = Session.current()
    name = session.app(app)
    number = parse_version(version)
    release = session.client.get(session.client.app_path(name, "releases", f"v{number}"))
    output.header(f"=== {name} Release v{number}")
    if release.get("build"):
        output.echo(f"{'build:':<9}{release['build']}")
    for key in ("config", "owner", "created", "summary", "updated", "uuid"):
        output.echo(f"{key + ':':<9}{release.get(key, '')}")


@GROUP.command("rollback")
@app_option
@click.argument("version", required=False, metavar="[<version>]")
def rollback(app: str | None, version: str | None) -> None:
    """Rolls back to a previous application release (default: the one before the current)."""
    session = Session.current()
    name = session.app(app)
    body: dict[str, int] = {}
    if version:
        body["version"] = parse_version(version)
        output.echo(f"Rolling back to v{body['version']}... ", nl=False)
    else:
        output.echo("Rolling back one release... ", nl=False)
    with output.progress():
        result = session.client.post(
            session.client.app_path(name, "releases", "rollback"), body, timeout=1260.0
        )
    output.echo(f"done, v{result.get('version')}")
