"""apps: create, list, info, open, logs, run, destroy, transfer."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit

import click

from deis_cli import gitremote, logstream, output
from deis_cli.commands import domains, labels, ps
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.models import App
from deis_cli.session import Session, app_option, limit_option

GROUP = CommandSet("apps", "manage applications used to provide services")

NO_LOGS = (
    "There are currently no log messages. Please check the following things:\n"
    "1) The app has running processes: deis ps\n"
    "2) The app writes its logs to stdout or stderr (files inside the container are not collected).\n"
    "3) The platform is healthy: deis platform:status (and deis-platform status on the platform's machine)."
)


@GROUP.command("create")
@click.argument("app_id", metavar="[<id>]", required=False)
@click.option("-b", "--buildpack", default="", metavar="<url>", help="A buildpack URL to use for this app.")
@click.option(
    "-r", "--remote", default="deis", show_default=True, metavar="<remote>", help="Name of the git remote."
)
@click.option("--no-remote", is_flag=True, help="Do not create a git remote.")
def create(app_id: str | None, buildpack: str, remote: str, no_remote: bool) -> None:
    """Creates a new application.

    With no <id>, the controller picks a random name such as 'gentle-asteroid'. A git remote named
    'deis' pointing at the platform's builder is added to the repository in the current directory, so
    'git push deis master' deploys the app.
    """
    session = Session.current()
    client = session.client
    output.echo("Creating Application... ", nl=False)
    with output.progress():
        app = client.post("/v2/apps/", {"id": app_id} if app_id else {})
    name = app["id"]
    output.echo(f"done, created {name}")
    if buildpack:
        client.set_config(name, {"values": {"BUILDPACK_URL": buildpack}})
    if no_remote:
        output.echo(f"If you want to add a git remote for this app later, use `deis git:remote -a {name}`")
        return
    url = session.remote_url(name)
    if not gitremote.in_repository():
        output.warning(
            "The current directory is not a git repository, so no git remote was added.\n"
            f"Run 'git init', then 'deis git:remote -a {name}' to add it."
        )
        return
    existing = gitremote.remotes().get(remote)
    if existing is not None and existing != url:
        raise CLIError(
            f"A git remote with the name {remote} already exists. To overwrite this remote run:\n"
            f"deis git:remote --force --remote {remote} --app {name}"
        )
    gitremote.create_remote(remote, url)
    output.echo(f"Git remote {remote} successfully created for app {name}.")


@GROUP.command("list")
@limit_option
def list_apps(limit: int | None) -> None:
    """Lists applications visible to the current user."""
    session = Session.current()
    apps, count = session.client.apps(session.limit(limit))
    output.header(f"=== Apps{output.limit_suffix(len(apps), count)}")
    for app in apps:
        output.echo(app["id"])


def app_url(session: Session, app: str, app_obj: App | None = None) -> str:
    """The app's URL: what the controller says, else its first domain expanded against the controller host."""
    if app_obj and app_obj.get("url"):
        return str(app_obj["url"])
    found, _ = session.client.domains(app, 1)
    if not found:
        return ""
    domain = str(found[0]["domain"])
    if "." in domain:
        return domain
    netloc = urlsplit(session.profile.controller).netloc
    host, _, port = netloc.partition(":")
    if host == "localhost" or _is_ip(host):
        return f"{domain}.localhost:8080"
    _first, _, rest = host.partition(".")
    return f"{domain}.{rest}" + (f":{port}" if port else "") if rest else domain


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@GROUP.command("info")
@app_option
def info(app: str | None) -> None:
    """Prints info about the current application."""
    session = Session.current()
    name = session.app(app)
    obj = session.client.app(name)
    url = app_url(session, name, obj) or f"No domain assigned to {name}"
    output.header(f"=== {obj['id']} Application")
    for label, key in (("updated", "updated"), ("uuid", "uuid"), ("created", "created")):
        output.echo(f"{label + ':':<10}{obj.get(key, '')}")
    output.echo(f"{'url:':<10}{url}")
    output.echo(f"{'owner:':<10}{obj.get('owner', '')}")
    output.echo(f"{'id:':<10}{obj['id']}")
    output.echo()
    ps.print_processes(name, ps.fetch(session, name))
    output.echo()
    domains.print_domains(session, name, None)
    output.echo()
    labels.print_labels(session, name)
    output.echo()


@GROUP.command("open")
@app_option
def open_app(app: str | None) -> None:
    """Opens a URL to the application in a web browser."""
    session = Session.current()
    name = session.app(app)
    url = app_url(session, name, session.client.app(name))
    if not url:
        raise CLIError(f"No domain assigned to {name}")
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    opener = shutil.which("xdg-open") or shutil.which("open")
    if opener is None:
        output.echo(url)
        return
    subprocess.run([opener, url], check=False)


@GROUP.command("logs")
@app_option
@click.option(
    "-n", "--lines", type=int, metavar="<num>", help="The number of lines to display (default 100)."
)
@click.option(
    "-f", "--follow", is_flag=True, help="Keep printing new log lines as they arrive (Ctrl-C stops)."
)
def logs(app: str | None, lines: int | None, follow: bool) -> None:
    """Retrieves the most recent log events."""
    session = Session.current()
    name = session.app(app)
    client = session.client
    console = output.console() if output.is_tty() else None
    if not follow:
        text = client.logs(name, lines)
        if not text.strip():
            raise CLIError(NO_LOGS)
        for line in text.rstrip("\n").splitlines():
            logstream.print_line(line, console)
        return
    # One read serves both the first page and the baseline that later polls are compared with, so
    # a line written in between is never lost.
    buffered = client.logs(name, logstream.BUFFER_LINES)
    for line in buffered.splitlines()[-(lines or 100) :]:
        logstream.print_line(line, console)
    try:
        logstream.follow(lambda: client.logs(name, logstream.BUFFER_LINES), initial=buffered, console=console)
    except KeyboardInterrupt:
        return


@GROUP.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@app_option
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="<command>...")
def run(app: str | None, command: tuple[str, ...]) -> None:
    """Runs a command inside an ephemeral app container.

    Prints the command's output and exits with its exit code. Use '--' before a command that has
    its own options: deis run -- ls -la
    """
    session = Session.current()
    name = session.app(app)
    cmd = " ".join(command)
    output.echo(f"Running '{cmd}'...")
    result = session.client.run(name, cmd)
    code, text = result["exit_code"], result["output"]
    if code == 0:
        output.echo(text, nl=False)
    else:
        output.echo(text, nl=False, err=True)
    sys.exit(code)


@GROUP.command("destroy")
@app_option
@click.option("--confirm", default="", metavar="<app>", help="Skip the prompt by naming the app.")
def destroy(app: str | None, confirm: str) -> None:
    """Destroys an application, its processes, releases, domains and logs."""
    session = Session.current()
    name, from_git = session.app_from_git(app)
    if not confirm:
        output.echo(
            " !    WARNING: Potentially Destructive Action\n"
            f" !    This command will destroy the application: {name}\n"
            f' !    To proceed, type "{name}" or re-run this command with --confirm={name}\n'
        )
        confirm = click.prompt(">", default="", show_default=False, prompt_suffix=" ")
    if confirm != name:
        raise CLIError(f"App {name} does not match confirm {confirm}, aborting.")
    started = time.monotonic()
    output.echo(f"Destroying {name}...")
    with output.progress():
        session.client.delete(session.client.app_path(name))
    output.echo(f"done in {int(time.monotonic() - started)}s")
    if from_git:
        for remote in gitremote.remove_app_remotes(name):
            output.echo(f"Git remote {remote} removed")


@GROUP.command("transfer")
@app_option
@click.argument("username", metavar="<username>")
def transfer(app: str | None, username: str) -> None:
    """Transfers ownership of an application to another user."""
    session = Session.current()
    name = session.app(app)
    output.echo(f"Transferring {name} to {username}... ", nl=False)
    session.client.post(session.client.app_path(name), {"owner": username})
    output.echo("done")
