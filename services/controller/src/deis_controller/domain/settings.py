"""App settings (maintenance, routable, whitelist, autoscale, label) and TLS: merged snapshots, latest wins.

Routing-relevant changes publish ``SettingsChanged`` with the full routing settings; autoscale changes
publish ``AppScaled`` with the new desired state.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from deis_common.events.apps import AppScaled, SettingsChanged
from deis_controller.controller import Work
from deis_controller.db import apps as apps_db
from deis_controller.db import releases as releases_db
from deis_controller.db import routing as routing_db
from deis_controller.domain.changes import apply as apply_changes
from deis_controller.domain.state import app_state, route_settings
from deis_controller.errors import BadRequest, BareList, Conflict, FieldErrors, Unprocessable, found
from deis_controller.records import App, AppSettings, SettingsValues, Tls


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


def merge(previous: SettingsValues, request: Mapping[str, Any]) -> SettingsValues:
    changes: dict[str, Any] = {}
    for name in ("maintenance", "routable"):
        if request.get(name) is not None:
            changes[name] = _bool(name, request[name])
    if request.get("whitelist") is not None:
        changes["whitelist"] = check_addresses(request["whitelist"])
    if request.get("autoscale") is not None:
        autoscale = _autoscale(request["autoscale"])
        changes["autoscale"] = apply_changes("autoscale", previous.autoscale, autoscale)
    if request.get("label") is not None:
        if not isinstance(request["label"], dict):
            raise FieldErrors.one("label", "Expected a dictionary of items.")
        changes["label"] = apply_changes("label", previous.label, request["label"])
    return dataclasses.replace(previous, **changes)


async def latest(work: Work, app: App) -> SettingsValues:
    """What the app's settings are now (the defaults before any were stored)."""
    row = await routing_db.latest_settings(work.tx, app.uuid)
    return row.values if row is not None else SettingsValues()


async def current(work: Work, app: App) -> AppSettings:
    """The app's latest settings record (one is stored when the app is created)."""
    return found(await routing_db.latest_settings(work.tx, app.uuid), "AppSettings")


async def save(work: Work, app: App, user: str, merged: SettingsValues) -> AppSettings:
    """Store a new settings snapshot (409 when it equals the latest) and announce what changed."""
    previous = await latest(work, app)
    if previous == merged:
        raise Conflict(f"{user} changed nothing")
    row = await routing_db.add_settings(work.tx, app.uuid, user, merged)
    work.log(app.id, f"appsettings {app.id}-{str(row.uuid)[:7]} updated")
    if (previous.maintenance, previous.routable, previous.whitelist) != (
        merged.maintenance,
        merged.routable,
        merged.whitelist,
    ):
        await work.emit(SettingsChanged(app=app.id, routing=await route_settings(work.tx, app.uuid)))
    if previous.autoscale != merged.autoscale:
        release = await releases_db.current(work.tx, app.uuid)
        if release is not None:
            app = await apps_db.bump_generation(work.tx, app.uuid)
            state = await app_state(work.tx, app, release)
            await work.emit(
                AppScaled(app=app.id, generation=app.generation, structure=state.structure, state=state)
            )
    return row


async def allow(work: Work, app: App, user: str, addresses: list[str]) -> AppSettings:
    """Add ``addresses`` to the whitelist (those already in it stay where they are)."""
    previous = await latest(work, app)
    added = [a for a in dict.fromkeys(addresses) if a not in previous.whitelist]
    return await save(work, app, user, dataclasses.replace(previous, whitelist=[*previous.whitelist, *added]))


async def disallow(work: Work, app: App, user: str, addresses: list[str]) -> AppSettings:
    """Take ``addresses`` off the whitelist; 422 when one is not on it."""
    previous = await latest(work, app)
    missing = [a for a in addresses if a not in previous.whitelist]
    if missing:
        raise Unprocessable(f"addresses {set(missing)} does not exist in whitelist")
    kept = [a for a in previous.whitelist if a not in addresses]
    return await save(work, app, user, dataclasses.replace(previous, whitelist=kept))


async def set_https(work: Work, app: App, user: str, value: Any) -> Tls:
    enforced = _bool("https_enforced", value)
    previous = await routing_db.latest_tls(work.tx, app.uuid)
    if previous is not None and previous.https_enforced == enforced:
        raise Conflict(f"{user} changed nothing")
    row = await routing_db.add_tls(work.tx, app.uuid, user, enforced)
    work.log(app.id, f"{user} {'enabled' if enforced else 'disabled'} TLS enforcement")
    await work.emit(SettingsChanged(app=app.id, routing=await route_settings(work.tx, app.uuid)))
    return row


async def latest_tls(work: Work, app: App) -> Tls:
    return found(await routing_db.latest_tls(work.tx, app.uuid), "TLS")
