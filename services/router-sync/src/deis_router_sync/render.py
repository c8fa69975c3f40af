"""Turns a route table into one nginx config (Jinja2, templates shipped as package data).

It decides the host names each app answers (``<app>.<platform domain>``, custom domains, wildcards),
which domains get an https server of their own (SNI, one per certificate), and where certificate files
live: content-addressed under ``<prefix>/certs`` so a new certificate never overwrites one a running
config still uses. It only produces text and file contents; writing and reloading belong to nginx.py.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from deis_router_sync.routes import AppRoute, RouteTable
from deis_router_sync.settings import RouterSettings

STATUS_HOST = "deis-router.invalid"
"""Host name of the router's own status server (``.invalid`` can never be a real domain)."""


@dataclass(frozen=True)
class Paths:
    """Where things live under the nginx prefix."""

    prefix: Path

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def candidate(self) -> Path:
        return self.prefix / "nginx.conf.candidate"

    @property
    def pid(self) -> Path:
        return self.prefix / "nginx.pid"

    @property
    def logs(self) -> Path:
        return self.prefix / "logs"

    @property
    def access_log(self) -> Path:
        return self.logs / "access.log"

    @property
    def temp(self) -> Path:
        return self.prefix / "temp"

    @property
    def certs(self) -> Path:
        return self.prefix / "certs"

    @property
    def table(self) -> Path:
        return self.prefix / "routes.json"


@dataclass
class Rendered:
    """A config and the private files (certificates, keys) it refers to."""

    text: str
    files: dict[Path, str] = field(default_factory=dict)


def quote(value: object) -> str:
    """An nginx double-quoted string."""
    text = str(value)
    if "$" in text:
        raise ValueError(f"{text!r} cannot be an nginx string: it contains '$'")
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def seconds(value: float) -> str:
    return f"{max(1, round(value))}s"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("deis_router_sync", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["q"] = quote
    env.filters["seconds"] = seconds
    return env


class Renderer:
    def __init__(self, settings: RouterSettings, platform_domain: str) -> None:
        self.settings = settings
        self.domain = platform_domain.strip(".").lower()
        self.paths = Paths(settings.prefix)
        self._template = _environment().get_template("nginx.conf.j2")
        self._maintenance = (
            resources.files("deis_router_sync").joinpath("templates/maintenance.html").read_text()
        )

    def host(self, name: str) -> str:
        """A custom domain without a dot is a subdomain of the platform domain."""
        return name if "." in name else f"{name}.{self.domain}"

    def render(self, table: RouteTable, version: str) -> Rendered:
        s = self.settings
        files: dict[Path, str] = {}
        claimed = {STATUS_HOST, self.controller_host_name}
        apps = [self._app(table.apps[name], claimed, files) for name in sorted(table.apps)]
        apps = [app for app in apps if app is not None]
        platform_tls = None
        if s.platform_cert is not None and s.platform_key is not None:
            platform_tls = {"crt": s.platform_cert, "key": s.platform_key}
        redirect_port = "" if s.public_https_port == 443 else f":{s.public_https_port}"
        text = self._template.render(
            version=version,
            s=s,
            paths=self.paths,
            worker_user=worker_user(),
            listen_http=f"{_listen_host(s.listen_host)}:{s.http_port}",
            listen_https=f"{_listen_host(s.listen_host)}:{s.https_port}",
            status_host=STATUS_HOST,
            controller_host_name=self.controller_host_name,
            controller_upstream=f"{_listen_host(s.controller_host)}:{s.controller_port}",
            platform_tls=platform_tls,
            hsts=s.hsts,
            redirect_port=redirect_port,
            maintenance_page=self._maintenance,
            apps=apps,
        )
        return Rendered(text=text, files=files)

    def _whitelist(self, own: list[str]) -> list[str]:
        default = self.settings.default_whitelist
        if self.settings.whitelist_mode == "override" and own:
            return own
        return sorted(set(own) | set(default))

    @property
    def controller_host_name(self) -> str:
        return f"deis.{self.domain}"

    def _app(self, route: AppRoute, claimed: set[str], files: dict[Path, str]) -> dict[str, Any] | None:
        if not route.routing.routable:
            return None
        names = []
        for name in [self.host(route.name), *(self.host(d) for d in route.domains)]:
            if name not in claimed:
                claimed.add(name)
                names.append(name)
        if not names:
            return None
        tls_servers = []
        platform = self.settings.platform_cert, self.settings.platform_key
        default_host = self.host(route.name)
        if None not in platform and default_host in names and default_host not in route.certs:
            tls_servers.append({"name": default_host, "crt": platform[0], "key": platform[1]})
        for domain, cert in sorted(route.certs.items()):
            name = self.host(domain)
            if name not in names:
                continue
            digest = hashlib.sha256(f"{cert.certificate}\0{cert.key}".encode()).hexdigest()[:20]
            crt, key = self.paths.certs / f"{digest}.crt", self.paths.certs / f"{digest}.key"
            files[crt], files[key] = cert.certificate, cert.key
            tls_servers.append({"name": name, "crt": crt, "key": key})
        settings = route.routing
        return {
            "name": route.name,
            "var": route.name.replace("-", "_"),
            "endpoints": route.endpoints,
            "http_names": names,
            "tls_servers": tls_servers,
            "whitelist": self._whitelist(settings.whitelist),
            "maintenance": settings.maintenance,
            "redirect": settings.https_enforced or self.settings.hsts,
        }


def worker_user() -> str | None:
    """As root, nginx's workers drop to ``nobody`` and that user's own group (nogroup on Debian)."""
    if os.geteuid() != 0:
        return None
    try:
        nobody = pwd.getpwnam("nobody")
        return f"nobody {grp.getgrgid(nobody.pw_gid).gr_name}"
    except KeyError:
        return "nobody nogroup"


def _listen_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
