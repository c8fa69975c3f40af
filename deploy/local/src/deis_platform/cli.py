"""The ``deis-platform`` command line: ``up``, ``down``, ``status`` and ``logs``.

Parses arguments, calls :mod:`deis_platform.launcher` and prints plain, human-readable output (a
launcher run by a person in a terminal; the services' own logs are JSON and live in ``<data>/logs``).
Exit codes: 0 success (``up`` when already up too), 1 failure or an unhealthy component, 2 usage errors,
3 ``status`` of a platform that is down.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from deis_platform import logs, node
from deis_platform.launcher import ComponentStatus, LaunchError, Platform, UpOptions, UpResult
from deis_platform.layout import DEFAULT_DATA_DIR, Layout
from deis_platform.ports import HOST
from deis_platform.state import PlatformState

EXIT_OK, EXIT_FAILED, EXIT_DOWN = 0, 1, 3


def _say(message: str) -> None:
    try:
        print(message, flush=True)
    except BrokenPipeError:
        # The reader went away (`deis-platform up | head`): finish the job, silently.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deis-platform", description="Run the whole Deis platform on this machine, on loopback."
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where the platform keeps its data, logs and state (default {DEFAULT_DATA_DIR})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start the platform (or report that it is already up)")
    up.add_argument(
        "--domain", default=None, help="platform domain: apps at <app>.<domain> (default localhost)"
    )
    up.add_argument(
        "--archive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="archive Postgres WAL into the store through deis-backup (remembered; default on)",
    )
    up.add_argument(
        "--registration-mode",
        choices=("admin_only", "enabled", "disabled"),
        default=None,
        help="who may register: admin_only (the first user, who becomes admin, then only admins register"
        " others), enabled (anyone) or disabled (remembered; default admin_only)",
    )
    up.add_argument(
        "--label",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="a label of this node, which `deis tags:set` must match (repeatable; replaces the recorded "
        "labels, which every later `up` keeps)",
    )
    up.add_argument(
        "--no-labels", action="store_true", help="forget the recorded node labels (the defaults stay)"
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=90.0,
        metavar="SECONDS",
        help="how long each stage may take to become healthy (default 90)",
    )
    commands.add_parser("down", help="stop everything; data is kept")
    commands.add_parser("status", help="show each component's pid, ports and health")
    logs_cmd = commands.add_parser("logs", help="show component logs")
    logs_cmd.add_argument("component", nargs="?", help="one component (default: all, interleaved)")
    logs_cmd.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    logs_cmd.add_argument(
        "-n", "--lines", type=int, default=50, metavar="N", help="lines to show first (default 50)"
    )
    return parser


def _print_up(platform: Platform, result: UpResult) -> None:
    ports = result.state.ports
    domain = result.state.domain
    if result.already_up:
        _say(f"The platform is already up (data: {platform.layout.root}).")
    else:
        _say(f"The platform is up (data: {platform.layout.root}).")
    controller = f"http://{HOST}:{ports['controller']}"
    _say("")
    _say(f"  controller   {controller}   (also http://deis.{domain}:{ports['router_http']})")
    _say(f"  git remote   ssh://git@{HOST}:{ports['builder_ssh']}/<app>.git")
    _say(f"  apps         http://<app>.{domain}:{ports['router_http']}")
    _say(f"  state        {platform.layout.state_file}")
    labels = node.node_labels(result.state.labels)
    _say(f"  node labels  {', '.join(f'{k}={v}' for k, v in sorted(labels.items()))}")
    _say("")
    _say("Next:")
    _say(f"  deis register {controller}   (the first user becomes the admin)")
    _say("  deis keys:add")
    _say("  deis create myapp")
    _say("  git push deis main")


def _health_cell(row: ComponentStatus) -> str:
    if row.healthy:
        return "healthy"
    return "-" if row.state == "STOPPED" else f"unhealthy ({row.detail})"


def _print_status(rows: list[ComponentStatus]) -> None:
    table = [("COMPONENT", "PID", "PORTS", "STATE", "HEALTH")]
    for row in rows:
        ports = " ".join(f"{label}:{port}" for label, port in row.ports.items())
        health = _health_cell(row)
        table.append((row.name, str(row.pid or "-"), ports, row.state, health))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        _say("  ".join([*cells, line[-1]]))


def _logs(platform: Platform, component: str | None, lines: int, follow: bool) -> int:
    names = [c.name for c in platform.components(PlatformState.load(platform.layout.state_file))]
    names.append("supervisord")
    if component is not None and component not in names:
        print(f"deis-platform: unknown component {component!r}; one of: {', '.join(names)}", file=sys.stderr)
        return EXIT_FAILED
    chosen = [component] if component else names[:-1]
    logs.show({name: platform.layout.log_file(name) for name in chosen}, lines=lines, follow=follow)
    return EXIT_OK


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    platform = Platform(Layout.at(args.data_dir))
    try:
        if args.command == "up":
            options = UpOptions(
                domain=args.domain,
                archive=args.archive,
                registration_mode=args.registration_mode,
                labels=args.label,
                forget_labels=args.no_labels,
                timeout=args.timeout,
            )
            _print_up(platform, platform.up(options, report=_say))
            return EXIT_OK
        if args.command == "down":
            if platform.down(report=_say):
                _say(f"The platform is down; data is kept in {platform.layout.root}.")
            else:
                _say("The platform is not running.")
            return EXIT_OK
        if args.command == "status":
            rows = platform.status()
            _print_status(rows)
            if all(row.state == "STOPPED" for row in rows):
                return EXIT_DOWN
            return EXIT_OK if all(row.healthy for row in rows) else EXIT_FAILED
        return _logs(platform, args.component, args.lines, args.follow)
    except LaunchError as e:
        print(f"deis-platform: {e}", file=sys.stderr)
        return EXIT_FAILED
