"""App settings (maintenance, routable, whitelist, autoscale, label) and TLS: merged snapshots, latest wins.

Routing-relevant changes publish ``SettingsChanged`` with the full routing settings; autoscale changes
publish ``AppScaled`` with the new desired state.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from deis_common.events.apps import AppScaled, SettingsChanged
from deis_controller.controller import Work
from deis_controller.db import apps as apps_db
from deis_controller.db import releases as releases_db
from deis_controller.db import routing as routing_db
from deis_controller.domain.apps import DEFAULT_SETTINGS
from deis_controller.domain.state import app_state, route_settings
from deis_controller.errors import BadRequest, BareList, Conflict, FieldErrors, NoMatch, Unprocessable

SETTINGS_FIELDS = ("maintenance", "routable", "whitelist", "autoscale", "label")


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldErrors.one(name, "Must be a valid boolean.")
    return value


def check_addresses(addresses: Any) -> list[str]:
    if not isinstance(addresses, list):
        raise FieldErrors.one("addresses", "Expected a list of items.")
    bad = []
    for address in addresses:
        text = str(address)
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            try:
                ipaddress.ip_interface(text)
            except ValueError:
                bad.append(f"The address {text} is not valid")
    if bad:
        raise BareList(bad)
    return [str(a) for a in addresses]


def _autoscale(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldErrors.one("autoscale", "Expected a dictionary of items.")
    for proctype, spec in value.items():
        if spec is None:
            continue
        if not isinstance(spec, dict) or set(spec) != {"min", "max", "cpu_percent"}:
            raise FieldErrors.one("autoscale", f"{proctype}: min, max and cpu_percent are all required")
        if any(not isinstance(v, int) or isinstance(v, bool) for v in spec.values()):
            raise FieldErrors.one("autoscale", f"{proctype}: min, max and cpu_percent must be integers")
        if spec["min"] < 1 or spec["max"] < spec["min"]:
            raise BadRequest(f"{proctype}: autoscale needs min >= 1 and max >= min")
    return value


def _merge_map(name: str, base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            if key not in merged:
                raise Unprocessable(f"{key} does not exist under {name}")
            del merged[key]
        else:
            merged[key] = value
    return merged


def merge(previous: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    merged = {k: previous[k] for k in SETTINGS_FIELDS}
    for name in ("maintenance", "routable"):
        if request.get(name) is not None:
            merged[name] = _bool(name, request[name])
    if request.get("whitelist") is not None:
        merged["whitelist"] = check_addresses(request["whitelist"])
    if request.get("autoscale") is not None:
        merged["autoscale"] = _merge_map("autoscale", previous["autoscale"], _autoscale(request["autoscale"]))
    if request.get("label") is not None:
        if not isinstance(request["label"], dict):
            raise FieldErrors.one("label", "Expected a dictionary of items.")
        merged["label"] = _merge_map("label", previous["label"], request["label"])
    return merged


async def latest(work: Work, app: dict[str, Any]) -> dict[str, Any]:
    row = await routing_db.latest_settings(work.tx, app["uuid"])
    return row if row is not None else {**DEFAULT_SETTINGS}


async def save(work: Work, app: dict[str, Any], user: str, merged: dict[str, Any]) -> dict[str, Any]:
    """Store a new settings snapshot (409 when it equals the latest) and announce what changed."""
    previous = await latest(work, app)
    if all(previous[k] == merged[k] for k in SETTINGS_FIELDS):
        raise Conflict(f"{user} changed nothing")
    row = await routing_db.add_settings(work.tx, app["uuid"], user, merged)
    work.log(app["id"], f"appsettings {app['id']}-{str(row['uuid'])[:7]} updated")
    if any(previous[k] != merged[k] for k in ("maintenance", "routable", "whitelist")):
        await work.emit(SettingsChanged(app=app["id"], routing=await route_settings(work.tx, app["uuid"])))
    if previous["autoscale"] != merged["autoscale"]:
        current = await releases_db.current(work.tx, app["uuid"])
        if current is not None:
            generation = await apps_db.bump_generation(work.tx, app["uuid"])
            fresh = await apps_db.get(work.tx, app["id"])
            assert fresh is not None
            state = await app_state(work.tx, fresh, current, generation)
            await work.emit(
                AppScaled(app=app["id"], generation=generation, structure=state.structure, state=state)
            )
    return row


async def set_https(work: Work, app: dict[str, Any], user: str, value: Any) -> dict[str, Any]:
    enforced = _bool("https_enforced", value)
    previous = await routing_db.latest_tls(work.tx, app["uuid"])
    if previous is not None and previous["https_enforced"] == enforced:
        raise Conflict(f"{user} changed nothing")
    row = await routing_db.add_tls(work.tx, app["uuid"], user, enforced)
    work.log(app["id"], f"{user} {'enabled' if enforced else 'disabled'} TLS enforcement")
    await work.emit(SettingsChanged(app=app["id"], routing=await route_settings(work.tx, app["uuid"])))
    return row


async def latest_tls(work: Work, app: dict[str, Any]) -> dict[str, Any]:
    row = await routing_db.latest_tls(work.tx, app["uuid"])
    if row is None:
        raise NoMatch("TLS")
    return row
