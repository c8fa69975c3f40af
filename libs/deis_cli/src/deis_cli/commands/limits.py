"""limits: memory and CPU limits per process type."""

from __future__ import annotations

import re

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option

GROUP = CommandSet("limits", "manage resource limits for your application")

LIMIT_RE = re.compile(
    r"^([a-z0-9]+(?:-[a-z0-9]+)*)=(([0-9]+[bkmgBKMG]{1,2}|[0-9.]{1,5}m?)(/([0-9]+[bkmgBKMG]{1,2}|[0-9.]{1,5}m?))?)$"
)


def parse_limits(limits: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for limit in limits:
        match = LIMIT_RE.match(limit)
        if not match:
            raise CLIError(
                f"{limit} doesn't fit format type=#unit or type=# or type=#/#\n"
                "Examples: web=2G worker=500M db=1G/2G"
            )
        parsed[match.group(1)] = match.group(2)
    return parsed


def print_limits(session: Session, app: str) -> None:
    config = session.client.config(app)
    output.header(f"=== {app} Limits")
    output.echo()
    for title, values in (("Memory", config.get("memory") or {}), ("CPU", config.get("cpu") or {})):
        if title == "CPU":
            output.echo()
        output.echo(f"--- {title}")
        if values:
            output.key_values(dict(values), width=5)
        else:
            output.echo("Unlimited")


def _kind(cpu: bool, memory: bool) -> str:
    if cpu and memory:
        raise CLIError("Give either --memory or --cpu, not both")
    return "cpu" if cpu else "memory"


@GROUP.command("list")
@app_option
def list_limits(app: str | None) -> None:
    """Lists resource limits for an application."""
    session = Session.current()
    print_limits(session, session.app(app))


@GROUP.command("set")
@app_option
@click.option(
    "-m", "--memory", is_flag=True, help="Set memory limits (the default), e.g. web=512M or web=0/1G."
)
@click.option("--cpu", is_flag=True, help="Set CPU limits in cores or millicores, e.g. web=500m.")
@click.argument("limits", nargs=-1, required=True, metavar="<type>=<value>...")
def set_limits(app: str | None, memory: bool, cpu: bool, limits: tuple[str, ...]) -> None:
    """Sets resource limits for an application, e.g. 'deis limits:set web=512M worker=256M'."""
    session = Session.current()
    name = session.app(app)
    body = {_kind(cpu, memory): parse_limits(limits)}
    output.echo("Applying limits... ", nl=False)
    with output.progress():
        session.client.set_config(name, body)
    output.echo("done\n")
    print_limits(session, name)


@GROUP.command("unset")
@app_option
@click.option("-m", "--memory", is_flag=True, help="Unset memory limits (the default).")
@click.option("--cpu", is_flag=True, help="Unset CPU limits.")
@click.argument("types", nargs=-1, required=True, metavar="<type>...")
def unset_limits(app: str | None, memory: bool, cpu: bool, types: tuple[str, ...]) -> None:
    """Unsets resource limits for an application."""
    session = Session.current()
    name = session.app(app)
    body = {_kind(cpu, memory): dict.fromkeys(types)}
    output.echo("Applying limits... ", nl=False)
    with output.progress():
        session.client.set_config(name, body)
    output.echo("done\n")
    print_limits(session, name)
