"""healthchecks: liveness and readiness probes per process type."""

from __future__ import annotations

from typing import Any

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option

GROUP = CommandSet("healthchecks", "manage healthchecks for applications")

DEFAULT_TYPE = "web/cmd"
PROBES = {"liveness": "livenessProbe", "readiness": "readinessProbe"}


def describe_probe(probe: dict[str, Any]) -> list[str]:
    exec_cmd = (probe.get("exec") or {}).get("command")
    http = probe.get("httpGet")
    tcp = probe.get("tcpSocket")
    lines = [
        f"Initial Delay (seconds): {probe.get('initialDelaySeconds', 0)}",
        f"Timeout (seconds): {probe.get('timeoutSeconds', 0)}",
        f"Period (seconds): {probe.get('periodSeconds', 0)}",
        f"Success Threshold: {probe.get('successThreshold', 0)}",
        f"Failure Threshold: {probe.get('failureThreshold', 0)}",
        f"Exec Probe: {'Command=' + str(exec_cmd) if exec_cmd else 'N/A'}",
    ]
    if http:
        headers = ", ".join(f"{h.get('name')}={h.get('value')}" for h in http.get("httpHeaders") or [])
        lines.append(
            f'HTTP GET Probe: Path="{http.get("path", "/")}" Port={http.get("port")} HTTPHeaders=[{headers}]'
        )
    else:
        lines.append("HTTP GET Probe: N/A")
    lines.append(f"TCP Socket Probe: {'Port=' + str(tcp.get('port')) if tcp else 'N/A'}")
    return lines


def print_probe_pair(checks: dict[str, Any]) -> None:
    for title, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe")):
        if key == "readinessProbe":
            output.echo()
        output.echo(f"--- {title}")
        probe = checks.get(key)
        if probe:
            for line in describe_probe(probe):
                output.echo(line)
        else:
            output.echo(f"No {title.lower()} probe configured.")


def print_healthchecks(session: Session, app: str, ptype: str | None) -> None:
    config = session.client.config(app)
    checks: dict[str, Any] = config.get("healthcheck") or {}
    output.header(f"=== {app} Healthchecks")
    if not ptype:
        if not checks:
            output.echo("No health checks configured.")
            return
        for key in sorted(checks):
            output.echo(f"\n{key}:")
            print_probe_pair(checks[key] or {})
        return
    output.echo(f"\n{ptype}:")
    print_probe_pair(checks.get(ptype) or {})


def parse_headers(headers: str) -> list[dict[str, str]]:
    parsed = []
    for item in filter(None, (h.strip() for h in headers.split(","))):
        name, sep, value = item.partition(":")
        if not sep:
            raise CLIError(f"could not find separator in header ({item})")
        parsed.append({"name": name.strip(), "value": value.strip()})
    return parsed


@GROUP.command("list")
@app_option
@click.option("--type", "ptype", default="", metavar="<proctype>", help="Only this process type.")
def list_checks(app: str | None, ptype: str) -> None:
    """Lists healthchecks for an application."""
    session = Session.current()
    print_healthchecks(session, session.app(app), ptype or None)


@GROUP.command("set", context_settings={"ignore_unknown_options": True})
@app_option
@click.argument("health_type", type=click.Choice(["liveness", "readiness"]), metavar="<liveness|readiness>")
@click.argument(
    "probe_type", type=click.Choice(["httpGet", "exec", "tcpSocket"]), metavar="<httpGet|exec|tcpSocket>"
)
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED, metavar="[--] <args>...")
@click.option("-p", "--path", default="/", show_default=True, help="The HTTP path (httpGet).")
@click.option("--headers", default="", metavar="<K:V,K2:V2>", help="HTTP headers to send (httpGet).")
@click.option(
    "--initial-delay-timeout", default=50, show_default=True, help="Seconds before the first probe."
)
@click.option(
    "--timeout-seconds", default=50, show_default=True, help="Seconds after which a probe times out."
)
@click.option("--period-seconds", default=10, show_default=True, help="Seconds between probes.")
@click.option("--success-threshold", default=1, show_default=True, help="Successes needed after a failure.")
@click.option("--failure-threshold", default=3, show_default=True, help="Failures before giving up.")
@click.option(
    "--type", "ptype", default=DEFAULT_TYPE, show_default=True, metavar="<proctype>", help="Process type."
)
def set_check(
    app: str | None,
    health_type: str,
    probe_type: str,
    args: tuple[str, ...],
    path: str,
    headers: str,
    initial_delay_timeout: int,
    timeout_seconds: int,
    period_seconds: int,
    success_threshold: int,
    failure_threshold: int,
    ptype: str,
) -> None:
    """Sets a healthcheck for an application.

    Examples: 'deis healthchecks:set readiness httpGet 5000 --path /health',
    'deis healthchecks:set liveness tcpSocket 5000', 'deis healthchecks:set liveness exec -- cat /tmp/ok'.
    """
    session = Session.current()
    name = session.app(app)
    words = [a for a in args if a != "--"]
    probe: dict[str, Any] = {
        "initialDelaySeconds": initial_delay_timeout,
        "timeoutSeconds": timeout_seconds,
        "periodSeconds": period_seconds,
        "successThreshold": success_threshold,
        "failureThreshold": failure_threshold,
    }
    if probe_type == "exec":
        probe["exec"] = {"command": words}
    else:
        if len(words) != 1 or not words[0].isdigit():
            raise CLIError(f"{probe_type} needs one port number, e.g. 5000")
        if probe_type == "httpGet":
            probe["httpGet"] = {"path": path, "port": int(words[0]), "httpHeaders": parse_headers(headers)}
        else:
            probe["tcpSocket"] = {"port": int(words[0])}
    output.echo(f"Applying {PROBES[health_type]} healthcheck... ", nl=False)
    with output.progress():
        body = {"healthcheck": {ptype: {PROBES[health_type]: probe}}}
        session.client.set_config(name, body)
    output.echo("done\n")
    print_healthchecks(session, name, ptype)


@GROUP.command("unset")
@app_option
@click.option(
    "--type", "ptype", default=DEFAULT_TYPE, show_default=True, metavar="<proctype>", help="Process type."
)
@click.argument(
    "kinds",
    nargs=-1,
    required=True,
    type=click.Choice(["liveness", "readiness"]),
    metavar="<liveness|readiness>...",
)
def unset_check(app: str | None, ptype: str, kinds: tuple[str, ...]) -> None:
    """Unsets healthchecks for an application."""
    session = Session.current()
    name = session.app(app)
    output.echo("Removing healthchecks... ", nl=False)
    with output.progress():
        body = {"healthcheck": {ptype: {PROBES[k]: None for k in kinds}}}
        session.client.set_config(name, body)
    output.echo("done\n")
    print_healthchecks(session, name, ptype)
