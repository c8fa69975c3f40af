"""The route table: what nginx should serve, built from events and the controller's snapshot.

Each app has its healthy endpoints (by generation), custom domains, certificates and routing settings.
Events of different subjects reach router-sync through independent consumers, so a ``domains.removed``
may arrive before the ``domains.added`` it undoes. Every change is therefore stamped with the time its
event was published and applied last-writer-wins per key (``domain:<name>``, ``cert:<domain>``,
``settings``); endpoints follow the generation instead. Destroyed apps leave a tombstone so late events
cannot bring them back. The table validates everything that ends up in the nginx config, so no event can
smuggle nginx syntax into it. It knows nothing of nginx or of the bus.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field, PrivateAttr

from deis_common.errors import DeisError
from deis_common.events.state import AppSnapshot, CertBinding, RouteSettings

APP_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = re.compile(rf"^(?:\*\.)?{_LABEL}(?:\.{_LABEL})*$")
TOMBSTONE_TTL = timedelta(days=8)
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:.]+\])$")


class InvalidRoute(DeisError):
    """An event carries something that can never be routed (a bad app name, domain or endpoint)."""


def check_app(app: str) -> str:
    if not APP_NAME.match(app) or len(app) > 63:
        raise InvalidRoute(f"app name {app!r} is not lowercase letters, digits and single dashes")
    return app


def check_domain(domain: str) -> str:
    value = domain.strip().lower().rstrip(".")
    if len(value) > 253 or not DOMAIN.match(value):
        raise InvalidRoute(f"domain {domain!r} is not a host name (a leading '*.' makes a wildcard)")
    return value


def check_endpoint(endpoint: str) -> str:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not _HOST.match(host):
        raise InvalidRoute(f"endpoint {endpoint!r} is not host:port")
    return endpoint


def _is_endpoint(endpoint: str) -> bool:
    try:
        check_endpoint(endpoint)
    except InvalidRoute:
        return False
    return True


def check_whitelist(entries: Iterable[str]) -> list[str]:
    checked = []
    for entry in entries:
        try:
            checked.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError as e:
            raise InvalidRoute(f"whitelist entry {entry!r} is not an address or CIDR") from e
    return checked


def check_routing(routing: RouteSettings) -> RouteSettings:
    whitelist = check_whitelist(routing.whitelist)
    if whitelist == routing.whitelist:
        return routing  # frozen, so the same settings can be shared by every app that has them
    return routing.model_copy(update={"whitelist": whitelist})


class AppRoute(BaseModel):
    name: str
    generation: int = 0
    endpoints: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    certs: dict[str, CertBinding] = Field(default_factory=dict, description="domain -> certificate")
    routing: RouteSettings = Field(default_factory=RouteSettings)
    stamps: dict[str, datetime] = Field(default_factory=dict, description="key -> time of the last change")

    def newer(self, key: str, at: datetime) -> bool:
        """Whether a change of ``key`` stamped ``at`` is newer than what was applied; records it if so."""
        seen = self.stamps.get(key)
        if seen is not None and at < seen:
            return False
        self.stamps[key] = at
        return True

    def touched_after(self, at: datetime) -> bool:
        return any(stamp > at for stamp in self.stamps.values())

    def view(self) -> dict[str, object]:
        """Everything that shapes the nginx config, without the bookkeeping."""
        return self.model_dump(mode="json", exclude={"stamps", "generation"})


class RouteTable(BaseModel):
    apps: dict[str, AppRoute] = Field(default_factory=dict)
    destroyed: dict[str, datetime] = Field(default_factory=dict, description="app -> destroyed at")
    _owned: set[str] | None = PrivateAttr(default=None)
    """Apps this table may change in place; None: all of them (a table not made by :meth:`derive`)."""
    _touched: set[str] = PrivateAttr(default_factory=set)
    """Apps changed (or removed) since :meth:`derive`."""

    # -- persistence -----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> RouteTable:
        if not path.exists():
            return cls()
        return cls.model_validate_json(path.read_text())

    def copy_deep(self) -> RouteTable:
        return self.model_copy(deep=True)

    def derive(self) -> RouteTable:
        """A table to try changes on, sharing every app route with this one until a change touches it.

        Copy-on-write: the first change of an app in the derived table copies that app's route, so this
        table stays as it was, and a change costs the same with 10 apps as with 100,000.
        """
        derived = RouteTable(apps=dict(self.apps), destroyed=dict(self.destroyed))
        derived._owned = set()
        return derived

    @property
    def touched(self) -> set[str]:
        """The apps changed or removed since this table was derived."""
        return set(self._touched)

    def _writable(self, name: str) -> AppRoute | None:
        route = self.apps.get(name)
        self._touched.add(name)
        if route is not None and self._owned is not None and name not in self._owned:
            route = self.apps[name] = route.model_copy(deep=True)
            self._owned.add(name)
        return route

    def _remove(self, name: str) -> None:
        self._touched.add(name)
        del self.apps[name]

    def view(self) -> dict[str, object]:
        return {name: self.apps[name].view() for name in sorted(self.apps)}

    # -- changes ---------------------------------------------------------------------------------

    def _app(self, app: str, at: datetime) -> AppRoute | None:
        """The app's route, created on first mention; None when the change predates its destruction."""
        check_app(app)
        gone = self.destroyed.get(app)
        if gone is not None and at <= gone:
            return None
        route = self._writable(app)
        if route is None:
            route = self.apps[app] = AppRoute(name=app)
            if self._owned is not None:
                self._owned.add(app)
        return route

    def set_endpoints(self, app: str, generation: int, endpoints: list[str], at: datetime) -> bool:
        """Serve ``endpoints`` for ``app``; False when ``generation`` is older than the one served."""
        checked = sorted({check_endpoint(e) for e in endpoints})
        route = self._app(app, at)
        if route is None or generation < route.generation:
            return False
        route.generation = generation
        route.endpoints = checked
        return True

    def add_domain(self, app: str, domain: str, at: datetime) -> None:
        name = check_domain(domain)
        route = self._app(app, at)
        if route is not None and route.newer(f"domain:{name}", at) and name not in route.domains:
            route.domains = sorted([*route.domains, name])

    def remove_domain(self, app: str, domain: str, at: datetime) -> None:
        name = check_domain(domain)
        route = self._app(app, at)
        if route is not None and route.newer(f"domain:{name}", at):
            route.domains = [d for d in route.domains if d != name]

    def attach_cert(self, app: str, cert: CertBinding, at: datetime) -> None:
        name = check_domain(cert.domain)
        route = self._app(app, at)
        if route is not None and route.newer(f"cert:{name}", at):
            route.certs = {**route.certs, name: cert.model_copy(update={"domain": name})}

    def detach_cert(self, app: str, domain: str, at: datetime) -> None:
        name = check_domain(domain)
        route = self._app(app, at)
        if route is not None and route.newer(f"cert:{name}", at):
            route.certs = {d: c for d, c in route.certs.items() if d != name}

    def set_routing(self, app: str, routing: RouteSettings, at: datetime) -> None:
        checked = check_routing(routing)
        route = self._app(app, at)
        if route is not None and route.newer("settings", at):
            route.routing = checked

    def destroy(self, app: str, at: datetime) -> None:
        check_app(app)
        gone = self.destroyed.get(app)
        if gone is None or at > gone:
            self.destroyed[app] = at
        # Events live a week in their streams; older tombstones can no longer meet a late event.
        horizon = at - TOMBSTONE_TTL
        self.destroyed = {name: when for name, when in self.destroyed.items() if when > horizon}
        route = self.apps.get(app)
        if route is not None and not route.touched_after(at):
            self._remove(app)

    def forget_others(self, known: set[str], at: datetime) -> None:
        """Drop apps the controller's snapshot (taken at ``at``) no longer lists, unless an event
        touched them after ``at``."""
        for name in [n for n in self.apps if n not in known]:
            if not self.apps[name].touched_after(at):
                self._remove(name)

    def adopt(self, item: AppSnapshot, at: datetime) -> None:
        """Take the controller's view of one app as of ``at``; what events changed after ``at`` stays."""
        domains = {check_domain(d) for d in item.domains}
        certs = {check_domain(c.domain): c for c in item.certs}
        routing = check_routing(item.routing)
        route = self._app(item.app, at)
        if route is None:
            return
        for name in sorted(domains | set(route.domains)):
            if route.newer(f"domain:{name}", at):
                route.domains = sorted((set(route.domains) - {name}) | ({name} & domains))
        for name in sorted(certs.keys() | route.certs.keys()):
            if route.newer(f"cert:{name}", at):
                kept = {d: c for d, c in route.certs.items() if d != name}
                if name in certs:
                    kept[name] = certs[name].model_copy(update={"domain": name})
                route.certs = kept
        if route.newer("settings", at):
            route.routing = routing
        # endpoints follow the generation, as from containers.healthy; an event of the same generation
        # handled first keeps its say
        if item.endpoints_generation > route.generation:
            route.generation = item.endpoints_generation
            route.endpoints = sorted({e for e in item.endpoints if _is_endpoint(e)})
