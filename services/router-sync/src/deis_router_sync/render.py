"""Turns a route table into one nginx config (Jinja2, templates shipped as package data).

It decides the host names each app answers (``<app>.<platform domain>``, custom domains, wildcards),
which domains get an https server of their own (SNI, one per certificate), and where certificate files
live: content-addressed under ``<prefix>/certs`` so a new certificate never overwrites one a running
config still uses. It only produces text and file contents; writing and reloading belong to nginx.py.

A plain app (no whitelist, maintenance, https redirect or certificate) costs the config a few lines of one
host map, leading to its upstream (which keeps idle connections to its processes); the others get servers
of their own. nginx finds an upstream by name by scanning those before it (when loading each upstream
block and on each request), comparing lengths and then characters, so upstream names start with a few
characters of a digest of the app's name: names differ at their first character and a scan stays cheap
(a config of 20,000 upstreams loads ten times faster than with names that share a long prefix). Past
``keepalive_upstreams`` upstreams, a plain app with one process leads straight to its address.

Each app's parts are rendered once per change of the app and kept (the route table copies an app's route
on change, so an unchanged route is the very same object), so a reload of a config of many thousand apps
renders only what changed.
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


@dataclass(frozen=True)
class _Parts:
    """What one app adds to the config."""

    routes: str
    upstream: str
    geo: str
    servers: str
    files: tuple[tuple[Path, str], ...]


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
        environment = _environment()
        self._template = environment.get_template("nginx.conf.j2")
        self._maintenance = (
            resources.files("deis_router_sync").joinpath("templates/maintenance.html").read_text()
        )
        s = settings
        redirect_port = "" if s.public_https_port == 443 else f":{s.public_https_port}"
        self._globals: dict[str, Any] = {
            "s": s,
            "paths": self.paths,
            "listen_http": f"{_listen_host(s.listen_host)}:{s.http_port}",
            "listen_https": f"{_listen_host(s.listen_host)}:{s.https_port}",
            "hsts": s.hsts,
            "redirect_port": redirect_port,
            "maintenance_page": self._maintenance,
        }
        self._macros: Any = environment.get_template("app.conf.j2").make_module(self._globals)
        self._parts: dict[str, tuple[AppRoute, tuple[str, ...], bool, _Parts]] = {}

    def host(self, name: str) -> str:
        """A custom domain without a dot is a subdomain of the platform domain."""
        return name if "." in name else f"{name}.{self.domain}"

    def render(self, table: RouteTable, version: str) -> Rendered:
        s = self.settings
        files: dict[Path, str] = {}
        claimed = {STATUS_HOST, self.controller_host_name}
        parts: dict[str, tuple[AppRoute, tuple[str, ...], bool, _Parts]] = {}
        routes, upstreams, geos, servers = [], [], [], []
        host_names = upstream_count = 0
        for name in sorted(table.apps):
            route = table.apps[name]
            names = self._claim(route, claimed)
            keepalive = not s.keepalive_upstreams or upstream_count < s.keepalive_upstreams
            cached = self._parts.get(name)
            if cached is not None and cached[0] is route and cached[1] == names and cached[2] == keepalive:
                piece = cached[3]
            else:
                piece = self._render_app(route, names, keepalive)
            parts[name] = (route, names, keepalive, piece)
            upstream_count += bool(piece.upstream)
            routes.append(piece.routes)
            upstreams.append(piece.upstream)
            geos.append(piece.geo)
            servers.append(piece.servers)
            files.update(piece.files)
            host_names += len(names)
        self._parts = parts  # apps gone from the table leave the cache with it
        platform_tls = None
        if s.platform_cert is not None and s.platform_key is not None:
            platform_tls = {"crt": s.platform_cert, "key": s.platform_key}
        text = self._template.render(
            **self._globals,
            version=version,
            worker_user=worker_user(),
            status_host=STATUS_HOST,
            controller_host_name=self.controller_host_name,
            controller_upstream=f"{_listen_host(s.controller_host)}:{s.controller_port}",
            platform_tls=platform_tls,
            map_hash_max_size=max(8192, 4 * host_names),
            routes="".join(routes),
            upstreams="".join(upstreams),
            geos="".join(geos),
            servers="".join(servers),
        )
        return Rendered(text=text, files=files)

    def _claim(self, route: AppRoute, claimed: set[str]) -> tuple[str, ...]:
        """The host names ``route`` answers: its own and its domains, unless an app before it has them."""
        if not route.routing.routable:
            return ()
        names = []
        for name in [self.host(route.name), *(self.host(d) for d in route.domains)]:
            if name not in claimed:
                claimed.add(name)
                names.append(name)
        return tuple(names)

    def _render_app(self, route: AppRoute, names: tuple[str, ...], keepalive: bool) -> _Parts:
        """``keepalive``: whether a plain app with one process may have an upstream of its own."""
        files: dict[Path, str] = {}
        app = self._app(route, list(names), files)
        if app is None:
            return _Parts("", "", "", "", ())
        macros = self._macros
        plain = not (app["whitelist"] or app["maintenance"] or app["redirect"] or app["tls_servers"])
        endpoints = app["endpoints"]
        # An upstream for one endpoint or several: only an upstream keeps idle connections to the app
        # (keepalive); without, every request opens one, and a busy app runs the host out of ports.
        wanted = endpoints and (keepalive or len(endpoints) > 1 or not plain)
        upstream = str(macros.upstream(app)) if wanted else ""
        if plain:
            app["target"] = app["upstream"] if upstream else endpoints[0] if endpoints else "-"
            return _Parts(str(macros.route_lines(app)), upstream, "", "", tuple(files.items()))
        geo = str(macros.geo(app)) if app["whitelist"] else ""
        return _Parts("", upstream, geo, str(macros.servers(app)), tuple(files.items()))

    def _whitelist(self, own: list[str]) -> list[str]:
        default = self.settings.default_whitelist
        if self.settings.whitelist_mode == "override" and own:
            return own
        return sorted(set(own) | set(default))

    @property
    def controller_host_name(self) -> str:
        return f"deis.{self.domain}"

    def _app(self, route: AppRoute, names: list[str], files: dict[Path, str]) -> dict[str, Any] | None:
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
            "upstream": upstream_name(route.name),
            "var": route.name.replace("-", "_"),
            "endpoints": route.endpoints,
            "http_names": names,
            "tls_servers": tls_servers,
            "whitelist": self._whitelist(settings.whitelist),
            "maintenance": settings.maintenance,
            "redirect": settings.https_enforced or self.settings.hsts,
        }


def upstream_name(app: str) -> str:
    """The name of ``app``'s upstream: eight letters of a digest of the app's name, then the name."""
    digest = hashlib.sha1(app.encode()).hexdigest()[:8]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest) + "-" + app


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
