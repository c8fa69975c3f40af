"""ps: list, scale and restart an app's processes."""

from __future__ import annotations

import re
import time
from collections import Counter

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.models import Pod
from deis_cli.session import Session, app_option, limit_option

GROUP = CommandSet("ps", "manage processes inside an app container")

SCALE_TIMEOUT = 300  # seconds, as the original's restart wait
POLL_INTERVAL = 1.0
TARGET_RE = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)=([0-9]+)$")
POD_SUFFIX_RE = re.compile(r"[a-z0-9]{8,10}-[a-z0-9]{5}$")


def fetch(session: Session, app: str, limit: int | None = None) -> list[Pod]:
    return session.client.pods(app, session.limit(limit))


def print_processes(app: str, pods: list[Pod]) -> None:
    """``=== app Processes`` then ``--- type:`` groups of ``<name> <state> (<release>)`` lines."""
    output.header(f"=== {app} Processes")
    by_type: dict[str, list[Pod]] = {}
    for pod in pods:
        by_type.setdefault(str(pod.get("type", "")), []).append(pod)
    for ptype in sorted(by_type):
        output.echo(f"--- {ptype}:")
        for pod in sorted(by_type[ptype], key=lambda p: str(p.get("name", ""))):
            output.echo(f"{pod.get('name')} {pod.get('state')} ({pod.get('release')})")


def parse_targets(targets: tuple[str, ...]) -> dict[str, int]:
    parsed: dict[str, int] = {}
    for target in targets:
        match = TARGET_RE.match(target)
        if not match:
            raise CLIError(f"'{target}' does not match the pattern 'type=num', ex: web=2")
        parsed[match.group(1)] = int(match.group(2))
    return parsed


def parse_restart_target(target: str, app: str) -> tuple[str, str]:
    """(type, pod name) from a type or a pod name in short or full form."""
    if "-" not in target:
        return target, ""
    replaced = target.replace(app + "-", "", 1)
    parts = replaced.split("-")
    ptype = parts[0] if POD_SUFFIX_RE.search(replaced) or len(parts) == 2 else parts[1]
    name = target if target.startswith(app + "-") else f"{app}-{target}"
    return ptype, name


@GROUP.command("list")
@app_option
@limit_option
def list_ps(app: str | None, limit: int | None) -> None:
    """Lists processes servicing an application."""
    session = Session.current()
    name = session.app(app)
    print_processes(name, fetch(session, name, limit))


@GROUP.command("scale")
@app_option
@click.argument("targets", nargs=-1, required=True, metavar="<type>=<num>...")
def scale(app: str | None, targets: tuple[str, ...]) -> None:
    """Scales an application's processes by type, e.g. 'deis ps:scale web=4 worker=2'."""
    session = Session.current()
    name = session.app(app)
    structure = parse_targets(targets)
    output.echo(f"Scaling processes... but first, {output.drink_of_choice()}!")
    started = time.monotonic()
    with output.progress():
        session.client.post(session.client.app_path(name, "scale"), structure, timeout=1260.0)
        pods, settled = wait_for_structure(session, name, structure, SCALE_TIMEOUT)
    if not settled:
        print_processes(name, pods)
        wanted = " ".join(f"{t}={n}" for t, n in structure.items())
        raise CLIError(
            f"{name} did not reach {wanted} within {SCALE_TIMEOUT}s; see 'deis ps' and 'deis logs'"
        )
    output.echo(f"done in {int(time.monotonic() - started)}s")
    print_processes(name, pods)


def settled(pods: list[Pod], structure: dict[str, int]) -> bool:
    """Every scaled type has exactly the requested number of processes, all of them up."""
    for ptype, count in structure.items():
        of_type = [p for p in pods if p.get("type") == ptype]
        if len(of_type) != count or any(p.get("state") != "up" for p in of_type):
            return False
    return True


def wait_for_structure(
    session: Session, app: str, structure: dict[str, int], timeout: float
) -> tuple[list[Pod], bool]:
    """The scheduler scales asynchronously: poll the process list until it matches (or time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        pods = fetch(session, app)
        if settled(pods, structure):
            return pods, True
        if time.monotonic() >= deadline:
            return pods, False
        time.sleep(POLL_INTERVAL)


@GROUP.command("restart")
@app_option
@click.argument("target", required=False, metavar="[<type>|<pod-name>]")
def restart(app: str | None, target: str | None) -> None:
    """Restarts an application's processes: all of them, one type, or one process by name."""
    session = Session.current()
    name = session.app(app)
    ptype, pod = parse_restart_target(target, name) if target else ("", "")
    parts = [p for p in (ptype, pod) if p]
    path = session.client.app_path(name, "pods", *parts, "restart")
    before = fetch(session, name)
    output.echo(f"Restarting processes... but first, {output.drink_of_choice()}!")
    started = time.monotonic()
    with output.progress():
        answer = session.client.post(path, {}, timeout=1260.0)
        listed: list[Pod] = answer.get("results", []) if isinstance(answer, dict) else answer
        # The answer may already show replacements; what must go away is what ran before the restart.
        chosen = [
            p for p in before if (not ptype or p.get("type") == ptype) and (not pod or p.get("name") == pod)
        ]
        if not listed and not chosen:
            output.echo("Could not find any processes to restart")
            return
        pods, replaced = wait_for_replacements(session, name, before, chosen, SCALE_TIMEOUT)
    if not replaced:
        print_processes(name, pods)
        raise CLIError(f"the processes of {name} were not replaced within {SCALE_TIMEOUT}s; see 'deis ps'")
    output.echo(f"done in {int(time.monotonic() - started)}s")
    print_processes(name, pods)


def wait_for_replacements(
    session: Session, app: str, before: list[Pod], chosen: list[Pod], timeout: float
) -> tuple[list[Pod], bool]:
    """A restart replaces processes with new ones: wait until none of the chosen ones is left and each
    affected type is back to its count, all up."""
    old = {p.get("name") for p in chosen}
    counts = Counter(p.get("type") for p in before)
    types = {p.get("type") for p in chosen}
    deadline = time.monotonic() + timeout
    while True:
        pods = fetch(session, app)
        done = True
        for ptype in types:
            of_type = [p for p in pods if p.get("type") == ptype]
            if (
                len(of_type) != counts[ptype]
                or any(p.get("state") != "up" for p in of_type)
                or any(p.get("name") in old for p in of_type)
            ):
                done = False
        if done:
            return pods, True
        if time.monotonic() >= deadline:
            return pods, False
        time.sleep(POLL_INTERVAL)
