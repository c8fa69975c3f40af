"""The router's nginx before router-sync takes over: its prefix directory and a bootstrap config.

router-sync owns ``<data>/router/nginx.conf`` (ARCHITECTURE §8): it renders the real config, checks it with
``nginx -t`` and reloads with ``nginx -p <prefix> -s reload``. nginx must still have something to start with
before router-sync has run once, so the launcher writes a minimal bootstrap config: every host gets a 404,
and ``deis.<domain>`` is proxied to the controller so the API is reachable through the router at once.

router-sync ships its own bootstrap, ``deis-router-bootstrap`` (its real renderer with an empty route
table, checked with ``nginx -t``); the launcher runs it when it is installed, so the first reload changes
nothing but routes, and falls back to the minimal config below otherwise.

The minimal bootstrap config carries a marker line. The launcher rewrites the file only while the marker
is there (no config yet, or still ours with perhaps an outdated port); once router-sync has written its
own, the launcher never touches it again.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from deis_platform.executables import venv_bin
from deis_platform.ports import HOST

BOOTSTRAP_MARKER = "# deis-platform bootstrap config"

# Temp dirs nginx needs, relative to the prefix; router-sync's config should keep using these.
TEMP_DIRS = ("temp/client_body", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi")


def server_command(nginx: str, prefix: Path) -> list[str]:
    """The foreground nginx command supervisord runs."""
    return [nginx, "-p", str(prefix), "-c", "nginx.conf", "-g", "daemon off;"]


def bootstrap_config(*, prefix: Path, http_port: int, domain: str, controller_port: int) -> str:
    # As root, nginx's workers switch to an unprivileged user; "nobody nogroup" exists on Debian-likes
    # where the wheel's compiled-in default group ("users") is not what we want to rely on.
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {name}_temp_path {prefix / path};"
        for name, path in zip(("client_body", "proxy", "fastcgi", "uwsgi", "scgi"), TEMP_DIRS, strict=True)
    )
    return f"""{BOOTSTRAP_MARKER}: router-sync replaces this file with the real routing table.
{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log stderr notice;

events {{
    worker_connections 1024;
}}

http {{
    access_log {prefix / "logs" / "access.log"};
{temp}

    server {{
        listen {HOST}:{http_port} default_server;
        server_name _;
        return 404;
    }}

    server {{
        listen {HOST}:{http_port};
        server_name deis.{domain};
        client_max_body_size 0;
        location / {{
            proxy_pass http://{HOST}:{controller_port};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1200s;
        }}
    }}
}}
"""


def prepare_prefix(prefix: Path, *, http_port: int, domain: str, controller_port: int) -> bool:
    """Create the prefix's directories and write the bootstrap config unless router-sync owns the file.

    Returns True when the bootstrap config was (re)written.
    """
    for path in ("logs", *TEMP_DIRS):
        (prefix / path).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    if conf.exists() and not conf.read_text().startswith(BOOTSTRAP_MARKER):
        return False
    conf.write_text(
        bootstrap_config(prefix=prefix, http_port=http_port, domain=domain, controller_port=controller_port)
    )
    return True


class RouterBootstrapFailed(RuntimeError):
    """``deis-router-bootstrap`` could not write a config nginx accepts."""


def run_router_sync_bootstrap(router_sync_env: Mapping[str, str], *, force: bool) -> str | None:
    """Let router-sync write its own empty config; None when ``deis-router-bootstrap`` is not installed.

    ``force`` replaces a config router-sync wrote earlier, for when the ports or the domain in it changed.
    Returns the command's one-line report.
    """
    command = venv_bin() / "deis-router-bootstrap"
    if not command.exists():
        return None
    result = subprocess.run(
        [str(command), *(["--force"] if force else [])],
        env={**os.environ, **router_sync_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RouterBootstrapFailed(
            f"deis-router-bootstrap failed:\n{(result.stderr or result.stdout)[-2000:]}"
        )
    return result.stdout.strip()
