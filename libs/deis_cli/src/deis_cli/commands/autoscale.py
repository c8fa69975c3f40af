"""autoscale: scale a process type between bounds on CPU use."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option

GROUP = CommandSet("autoscale", "manage autoscale for applications")


@GROUP.command("list")
@app_option
def list_autoscale(app: str | None) -> None:
    """Lists autoscale policies of an application."""
    session = Session.current()
    name = session.app(app)
    settings = session.client.settings(name)
    policies = settings.get("autoscale") or {}
    output.header(f"=== {name} Autoscale")
    if not policies:
        output.echo("No autoscale policies found.")
        return
    for ptype in sorted(policies):
        policy = policies[ptype] or {}
        output.echo()
        output.echo(f"--- {ptype}:")
        output.echo(f"Min Replicas: {policy.get('min')}")
        output.echo(f"Max Replicas: {policy.get('max')}")
        output.echo(f"CPU: {policy.get('cpu_percent')}%")


@GROUP.command("set")
@app_option
@click.argument("ptype", metavar="<process type>")
@click.option("--min", "minimum", type=int, required=True, help="Minimum number of replicas (at least 1).")
@click.option("--max", "maximum", type=int, required=True, help="Maximum number of replicas.")
@click.option(
    "--cpu-percent", type=int, required=True, help="Target average CPU use, in percent of the request."
)
def set_autoscale(app: str | None, ptype: str, minimum: int, maximum: int, cpu_percent: int) -> None:
    """Sets an autoscale policy, e.g. 'deis autoscale:set web --min 2 --max 5 --cpu-percent 70'.

    CPU requests must be set with 'deis limits:set --cpu' for autoscaling to work.
    """
    if minimum < 1 or maximum < minimum:
        raise CLIError("--min must be at least 1 and --max at least --min")
    session = Session.current()
    name = session.app(app)
    output.echo(f"Applying autoscale settings for process type {ptype} on {name}... ", nl=False)
    policy = {"min": minimum, "max": maximum, "cpu_percent": cpu_percent}
    with output.progress():
        session.client.set_settings(name, {"autoscale": {ptype: policy}})
    output.echo("done")


@GROUP.command("unset")
@app_option
@click.argument("ptype", metavar="<process type>")
def unset_autoscale(app: str | None, ptype: str) -> None:
    """Removes the autoscale policy of a process type."""
    session = Session.current()
    name = session.app(app)
    output.echo(f"Removing autoscale for process type {ptype} on {name}... ", nl=False)
    with output.progress():
        session.client.set_settings(name, {"autoscale": {ptype: None}})
    output.echo("done")
