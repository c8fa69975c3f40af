"""platform: the health of the platform the profile points at (controller /healthz and /v2/)."""

from __future__ import annotations

import time

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session

GROUP = CommandSet("platform", "inspect the platform itself", default="status")


@GROUP.command("status")
def status() -> None:
    """Prints whether the controller is healthy and ready, its API version, and who you are there."""
    session = Session.current()
    client = session.client
    output.header(f"=== Platform {client.controller}")
    failures = 0
    for path in ("/healthz", "/readiness"):
        started = time.monotonic()
        try:
            response = client.request("GET", path, auth=False, ok=tuple(range(400, 600)))
            ok = response.status_code == 200
            text = f"{response.status_code} {response.text.strip()[:60]}"
        except CLIError as e:
            ok, text = False, e.message
        failures += not ok
        took = int((time.monotonic() - started) * 1000)
        output.echo(f"{path + ':':<14}{'ok' if ok else 'FAILED'} ({text}, {took} ms)")
    try:
        api = client.request("GET", "/v2/", ok=(401,))
        output.echo(f"{'API version:':<14}{api.headers.get('DEIS_API_VERSION', 'unknown')}")
        output.echo(f"{'Platform:':<14}{api.headers.get('DEIS_PLATFORM_VERSION', 'unknown')}")
        who = "token accepted" if api.status_code == 200 else "token refused, run 'deis login' again"
        output.echo(f"{'User:':<14}{session.profile.username or '(none)'} ({who})")
        failures += api.status_code != 200
    except CLIError as e:
        failures += 1
        output.echo(f"{'API:':<14}FAILED ({e.message})")
    output.echo(f"{'Builder:':<14}{session.builder_base()}")
    if failures:
        raise CLIError(f"the platform at {client.controller} is not healthy")
