"""The app's git remote: where ``git push deis`` goes, and how an app is recognised from it.

The remote URL is ``ssh://git@<builder host>:2222/<app>.git``. The builder host is the controller host
with ``-builder`` appended to its first DNS label (``deis.example.com`` → ``deis-builder.example.com``).
On the embedded platform (a controller on 127.0.0.1, localhost or ``*.localhost``) the builder listens
on the same machine, so the URL uses the builder address the controller advertised at login, else
127.0.0.1 / the controller host. ``$DEIS_BUILDER_URL`` overrides all of this: either a base
(``ssh://git@host:2222``) or a template containing ``{app}``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from deis_cli.errors import CLIError

BUILDER_PORT = 2222
REMOTE_RE = re.compile(r"^ssh://git@(?P<host>[^/:]+)(?::(?P<port>\d+))?/(?P<app>[a-z0-9-]+)\.git$")


def is_local(controller_url: str) -> bool:
    """Whether the controller runs on this machine (the embedded platform)."""
    return _is_local_host(urlsplit(controller_url).hostname or "")


def _is_local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def builder_base(controller_url: str, advertised: str = "") -> str:
    """``ssh://git@<host>:<port>`` of the builder serving this controller."""
    override = os.environ.get("DEIS_BUILDER_URL", "").strip()
    if override:
        return override.rstrip("/")
    host = urlsplit(controller_url).hostname or ""
    if _is_local_host(host):
        if advertised:
            return advertised.rstrip("/")
        local = "127.0.0.1" if host.endswith(".localhost") or host == "localhost" else host
        return f"ssh://git@{local}:{BUILDER_PORT}"
    try:
        ipaddress.ip_address(host)
        return f"ssh://git@{host}:{BUILDER_PORT}"
    except ValueError:
        pass
    first, _, rest = host.partition(".")
    builder_host = f"{first}-builder" + (f".{rest}" if rest else "")
    return f"ssh://git@{builder_host}:{BUILDER_PORT}"


def remote_url(controller_url: str, app: str, advertised: str = "") -> str:
    base = builder_base(controller_url, advertised)
    if "{app}" in base:
        return base.format(app=app)
    return f"{base}/{app}.git"


def _git(*args: str, check: bool = True) -> str:
    try:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise CLIError("git is not installed (needed for the app's git remote)") from None
    if check and proc.returncode != 0:
        raise CLIError((proc.stderr or proc.stdout).strip() or f"git {' '.join(args)} failed")
    return proc.stdout


def in_repository() -> bool:
    try:
        proc = subprocess.run(["git", "rev-parse", "--git-dir"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return False
    return proc.returncode == 0


def remotes() -> dict[str, str]:
    """Remote name → fetch URL of the repository in the current directory (empty outside one)."""
    if not in_repository():
        return {}
    found: dict[str, str] = {}
    for line in _git("remote", "-v", check=False).splitlines():
        parts = line.split()
        if len(parts) >= 2:
            found.setdefault(parts[0], parts[1])
    return found


def create_remote(name: str, url: str, *, force: bool = False) -> None:
    if not in_repository():
        raise CLIError(
            "The current directory is not a git repository. Run 'git init' first, "
            "or pass --no-remote and add the remote later with 'deis git:remote'."
        )
    existing = remotes().get(name)
    if existing == url:
        return
    if existing is not None:
        if not force:
            raise CLIError(f"Remote {name} already exists, please run 'deis git:remote -f' to overwrite")
        _git("remote", "remove", name)
    _git("remote", "add", name, url)


def remove_app_remotes(app: str) -> list[str]:
    """Remove every remote that points at this app's repository; returns their names."""
    removed = []
    for name, url in remotes().items():
        match = REMOTE_RE.match(url)
        if match and match.group("app") == app:
            _git("remote", "remove", name)
            removed.append(name)
    return removed


def detect_app(builder: str) -> str:
    """The app of the remote pointing at our builder; else of a ``deis`` remote; else the directory name."""
    builder_host = urlsplit(builder).hostname or ""
    found = remotes()
    candidates = []
    for name, url in found.items():
        match = REMOTE_RE.match(url)
        if match:
            candidates.append((name, match.group("host"), match.group("app")))
    for _name, host, app in candidates:
        if host == builder_host:
            return app
    for name, _host, app in candidates:
        if name == "deis":
            return app
    return Path.cwd().name.lower()
