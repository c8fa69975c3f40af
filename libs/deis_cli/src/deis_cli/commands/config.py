"""config: an app's environment variables, and .env files (config:pull / config:push)."""

from __future__ import annotations

import base64
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, app_option

GROUP = CommandSet("config", "manage environment variables that define app config")

PAIR_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$")
SSH_KEY_RE = re.compile(r"^-----BEGIN (DSA|RSA|EC|OPENSSH) PRIVATE KEY-----")
HEALTHCHECK_NOTICE = (
    "Hey there! We've noticed that you're using 'deis config:set HEALTHCHECK_URL'\n"
    "to set up healthchecks. This functionality has been deprecated. In the future, please use\n"
    "'deis healthchecks' to set up application health checks. Thanks!"
)


def parse_config(lines: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in lines:
        if not line or line.startswith("#"):
            continue
        match = PAIR_RE.match(line)
        if not match:
            raise CLIError(f"'{line}' does not match the pattern 'key=var', ex: MODE=test")
        values[match.group(1)] = match.group(2)
    return values


def parse_ssh_key(value: str) -> str:
    """SSH_KEY may be PEM text, already base64 PEM (from config:pull), or a path to a key file."""
    if SSH_KEY_RE.match(value):
        return value
    try:
        decoded = base64.b64decode(value, validate=True).decode()
        if SSH_KEY_RE.match(decoded):
            return decoded
    except (ValueError, UnicodeDecodeError):
        pass
    path = Path(value).expanduser()
    if path.is_file():
        contents = path.read_text()
        if SSH_KEY_RE.match(contents):
            return contents
    raise CLIError(f"Could not parse SSH private key:\n {value}")


def format_env(values: dict[str, Any]) -> str:
    return "".join(f"{key}={values[key]}\n" for key in sorted(values))


def print_config(session: Session, app: str, fmt: str = "") -> None:
    config = session.client.config(app)
    values: dict[str, Any] = config.get("values") or {}
    keys = sorted(values)
    if fmt == "oneline":
        output.echo(" ".join(f"{k}={values[k]}" for k in keys))
    elif fmt == "diff":
        for key in keys:
            output.echo(f"{key}={values[key]}")
    else:
        output.header(f"=== {app} Config")
        output.key_values({k: values[k] for k in keys})


def set_values(session: Session, app: str, values: dict[str, Any]) -> None:
    if "SSH_KEY" in values and values["SSH_KEY"] is not None:
        values["SSH_KEY"] = base64.b64encode(parse_ssh_key(str(values["SSH_KEY"])).encode()).decode()
    if any("HEALTHCHECK_" in key for key in values):
        output.echo(HEALTHCHECK_NOTICE)
    output.echo("Creating config... ", nl=False)
    with output.progress():
        config = session.client.set_config(app, {"values": values})
    release = (config.get("values") or {}).get("WORKFLOW_RELEASE") if isinstance(config, dict) else None
    output.echo(f"done, {release}\n" if release else "done\n")
    print_config(session, app)


@GROUP.command("list")
@app_option
@click.option("--oneline", is_flag=True, help="Print the variables on one line, space separated.")
@click.option("--diff", is_flag=True, help="Print KEY=VALUE lines, like a .env file.")
def list_config(app: str | None, oneline: bool, diff: bool) -> None:
    """Lists environment variables for an application."""
    session = Session.current()
    print_config(session, session.app(app), "oneline" if oneline else "diff" if diff else "")


@GROUP.command("set")
@app_option
@click.argument("pairs", nargs=-1, required=True, metavar="<var>=<value>...")
def set_config(app: str | None, pairs: tuple[str, ...]) -> None:
    """Sets environment variables for an application.

    Every change creates a new release and restarts the app's processes with it. Keys must start
    with a letter or underscore. SSH_KEY may be a private key file path or its PEM text.
    """
    session = Session.current()
    set_values(session, session.app(app), dict(parse_config(list(pairs))))


@GROUP.command("unset")
@app_option
@click.argument("keys", nargs=-1, required=True, metavar="<key>...")
def unset_config(app: str | None, keys: tuple[str, ...]) -> None:
    """Unsets environment variables for an application."""
    session = Session.current()
    name = session.app(app)
    output.echo("Removing config... ", nl=False)
    with output.progress():
        session.client.set_config(name, {"values": dict.fromkeys(keys)})
    output.echo("done\n")
    print_config(session, name)


@GROUP.command("pull")
@app_option
@click.option("-i", "--interactive", is_flag=True, help="Ask before overwriting a value in the local .env.")
@click.option("-o", "--overwrite", is_flag=True, help="Overwrite an existing .env file.")
def pull(app: str | None, interactive: bool, overwrite: bool) -> None:
    """Extracts environment variables from an application for local use.

    Writes them to .env in the current directory, or prints them when output is piped.
    """
    session = Session.current()
    name = session.app(app)
    config = session.client.config(name)
    values: dict[str, Any] = dict(config.get("values") or {})
    if not output.is_tty():
        output.echo(format_env(values), nl=False)
        return
    path = Path(".env")
    if path.exists() and not overwrite and not interactive:
        raise CLIError(".env already exists, pass -o to overwrite")
    if interactive and path.exists():
        local = parse_config([line.rstrip("\r") for line in path.read_text().splitlines()])
        for key, value in values.items():
            if key in local and str(local[key]) != str(value):
                answer = click.prompt(
                    f"{key}: overwrite {local[key]} with {value}? (y/N)", default="", show_default=False
                )
                if answer.strip().lower() == "y":
                    local[key] = value
            elif key not in local:
                local[key] = value
        values = dict(local)
    path.write_text(format_env(values))
    os.chmod(path, 0o600)


@GROUP.command("push")
@app_option
@click.option(
    "-p", "--path", "path", default=".env", show_default=True, metavar="<path>", help="A file to read."
)
def push(app: str | None, path: str) -> None:
    """Sets environment variables for an application from a .env file (or standard input)."""
    session = Session.current()
    name = session.app(app)
    if path == ".env" and not sys.stdin.isatty() and not Path(path).exists():
        contents = sys.stdin.read()
    else:
        try:
            contents = Path(path).read_text()
        except OSError as e:
            raise CLIError(f"Could not read {path}: {e.strerror}") from e
    lines = [line.strip("\r") for line in contents.split("\n")]
    values = parse_config([line for line in lines if line])
    if not values:
        raise CLIError(f"{path} has no variables to set")
    set_values(session, name, dict(values))
