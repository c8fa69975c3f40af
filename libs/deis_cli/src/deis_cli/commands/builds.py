"""builds: build history, and deploying an existing Docker image (``deis pull``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option, limit_option

GROUP = CommandSet("builds", "manage builds created using `git push`")


def parse_procfile(text: str) -> dict[str, str]:
    """A Procfile: ``type: command`` lines (block YAML of that shape), or a JSON object."""
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError as e:
            raise CLIError(f"The procfile is not valid JSON: {e}") from e
        if not isinstance(parsed, dict):
            raise CLIError("The procfile must map process types to commands")
        return {str(k): str(v) for k, v in parsed.items()}
    procfile: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, command = line.partition(":")
        if not sep or not key.strip():
            raise CLIError(f"Procfile line '{raw}' does not match 'type: command'")
        procfile[key.strip()] = command.strip().strip('"')
    return procfile


@GROUP.command("list")
@app_option
@limit_option
def list_builds(app: str | None, limit: int | None) -> None:
    """Lists build history for an application."""
    session = Session.current()
    name = session.app(app)
    found, count = session.client.builds(name, session.limit(limit))
    output.header(f"=== {name} Builds{output.limit_suffix(len(found), count)}")
    output.columns([[str(b.get("uuid", "")), str(b.get("created", ""))] for b in found])


@GROUP.command("create")
@app_option
@click.argument("image", metavar="<image>")
@click.option(
    "-p", "--procfile", default="", metavar="<procfile>", help='Process types, e.g. "web: ./server".'
)
def create(app: str | None, image: str, procfile: str) -> None:
    """Creates a new build of an application from a Docker image, and deploys it.

    The image should include a tag, e.g. 'deis pull deis/example-go:latest'. A ./Procfile in the
    current directory is used when -p is not given.
    """
    session = Session.current()
    name = session.app(app)
    body: dict[str, Any] = {"image": image}
    if procfile:
        body["procfile"] = parse_procfile(procfile)
    elif Path("Procfile").is_file():
        body["procfile"] = parse_procfile(Path("Procfile").read_text())
    output.echo("Creating build... ", nl=False)
    with output.progress():
        session.client.post(session.client.app_path(name, "builds"), body, timeout=1260.0)
    output.echo("done")
