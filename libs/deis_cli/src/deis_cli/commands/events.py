"""events: stream the platform's integration events (``deis.v1.>``) as JSON lines.

The controller has no event-stream endpoint, so this subscribes to NATS directly (read-only, core
subscription: it sees every event published from the moment it connects and never consumes
anything a service waits for). Log lines (``deis.v1.logs.*``) and build log lines are not events
and are left out. The NATS URL comes from ``--nats`` or ``$DEIS_NATS_URL``.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError

GROUP = CommandSet("events", "stream platform events", default="watch")

SUBJECT = "deis.v1.>"
NOT_EVENTS = ("deis.v1.logs.", "deis.v1.builds.log.")


def matches(envelope: dict[str, Any], app: str | None, types: tuple[str, ...]) -> bool:
    if app and envelope.get("subject") != app and (envelope.get("data") or {}).get("app") != app:
        return False
    if not types:
        return True
    kind = str(envelope.get("type", ""))
    short = kind.removeprefix("deis.v1.")
    family = short.split(".", 1)[0]
    return any(t in (kind, short, family) for t in types)


async def _watch(url: str, app: str | None, types: tuple[str, ...], count: int) -> None:
    import nats
    from nats.errors import NoServersError

    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def quiet(_error: Exception) -> None:
        return None

    async def closed() -> None:
        queue.put_nowait(None)

    try:
        # max_reconnect_attempts also bounds the first connection: fail fast on a wrong URL.
        nc = await nats.connect(
            url,
            connect_timeout=5,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.5,
            error_cb=quiet,
            closed_cb=closed,
            disconnected_cb=closed,
        )
    except (TimeoutError, NoServersError, OSError) as e:
        raise CLIError(f"Could not connect to NATS at {url}: {e or type(e).__name__}") from e

    async def on_message(msg: Any) -> None:
        if not msg.subject.startswith(NOT_EVENTS):
            queue.put_nowait(msg.data)

    try:
        await nc.subscribe(SUBJECT, cb=on_message)
        await nc.flush()
        output.echo(f"Watching {SUBJECT} on {url} (Ctrl-C stops)", err=True)
        shown = 0
        while count <= 0 or shown < count:
            data = await queue.get()
            if data is None:
                raise CLIError(f"Lost the connection to NATS at {url}")
            try:
                envelope = json.loads(data)
            except ValueError:
                continue
            if not isinstance(envelope, dict) or not matches(envelope, app, types):
                continue
            output.echo(json.dumps(envelope))
            shown += 1
    finally:
        await nc.close()


@GROUP.command("watch")
@click.option("-a", "--app", "app", metavar="<app>", help="Only events about this app.")
@click.option(
    "-t",
    "--type",
    "types",
    multiple=True,
    metavar="<type>",
    help="Only this type: a subject (deis.v1.builds.completed), 'builds.completed' or a family ('builds').",
)
@click.option(
    "--nats", "nats_url", metavar="<url>", envvar="DEIS_NATS_URL", help="NATS URL ($DEIS_NATS_URL)."
)
@click.option("-n", "--count", default=0, metavar="<num>", help="Exit after this many events (0: never).")
def watch(app: str | None, types: tuple[str, ...], nats_url: str | None, count: int) -> None:
    """Streams platform events as JSON lines (CloudEvents envelopes).

    Example: 'deis events --app web --type builds'. Needs access to the platform's NATS:
    pass --nats nats://host:4222 or set DEIS_NATS_URL.
    """
    url = nats_url or os.environ.get("DEIS_NATS_URL")
    if not url:
        raise CLIError("No NATS URL: pass --nats nats://host:4222 or set DEIS_NATS_URL")
    try:
        asyncio.run(_watch(url, app, types, count))
    except KeyboardInterrupt:
        return
