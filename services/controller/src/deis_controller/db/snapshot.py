"""Bulk reads for the controller snapshot: one app's, or the apps after a name's, current release, config,
build and routing at once.

Each related table is read for all the apps in one query: a snapshot costs the same handful of queries
whatever its size. Paged resyncs read their pages as JSON written by Postgres instead (``snapshot_json``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from deis_controller.db.pool import Tx
from deis_controller.db.releases import BUILD_COLUMNS, CONFIG_COLUMNS, RELEASE_COLUMNS


@dataclass
class SnapshotData:
    apps: list[dict[str, Any]]
    releases: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    configs: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    builds: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    settings: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    tls: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    domains: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    bindings: dict[uuid.UUID, list[dict[str, Any]]] = field(default_factory=dict)


_APP_COLUMNS = "uuid, id, owner, structure, generation, endpoints, endpoints_generation"


async def load(
    tx: Tx, app_id: str | None, *, after: str | None = None, with_state: bool = True
) -> SnapshotData:
    """One app, or the apps after ``after`` (all of them), in name order; without their releases,
    configs and builds unless ``with_state``."""
    if app_id is not None:
        apps = await tx.rows(f"SELECT {_APP_COLUMNS} FROM apps WHERE id = $1", app_id)
    else:
        # two spellings rather than "$1 IS NULL OR id > $1", which keeps the planner off the index
        args: list[Any] = [after] if after is not None else []
        where = "WHERE id > $1" if after is not None else ""
        apps = await tx.rows(f"SELECT {_APP_COLUMNS} FROM apps {where} ORDER BY id", *args)
    data = SnapshotData(apps=apps)
    keys = [a["uuid"] for a in apps]
    if not keys:
        return data
    if with_state:
        await _load_state(tx, data, keys)
    for table, target in (("app_settings", data.settings), ("tls", data.tls)):
        for row in await tx.rows(
            f"SELECT DISTINCT ON (app_uuid) * FROM {table} WHERE app_uuid = ANY($1::uuid[])"
            " ORDER BY app_uuid, created DESC",
            keys,
        ):
            target[row["app_uuid"]] = row
    domains: dict[uuid.UUID, list[str]] = defaultdict(list)
    for row in await tx.rows(
        "SELECT app_uuid, domain FROM domains WHERE app_uuid = ANY($1::uuid[]) ORDER BY domain", keys
    ):
        domains[row["app_uuid"]].append(row["domain"])
    data.domains = dict(domains)
    bindings: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in await tx.rows(
        "SELECT d.app_uuid, c.name, d.domain, c.certificate, c.key FROM domains d"
        " JOIN certificates c ON c.id = d.certificate_id WHERE d.app_uuid = ANY($1::uuid[])"
        " ORDER BY d.domain",
        keys,
    ):
        app_uuid = row.pop("app_uuid")
        bindings[app_uuid].append(row)
    data.bindings = dict(bindings)
    return data


async def _load_state(tx: Tx, data: SnapshotData, keys: list[uuid.UUID]) -> None:
    for row in await tx.rows(
        f"SELECT DISTINCT ON (app_uuid) {RELEASE_COLUMNS} FROM releases"
        " WHERE app_uuid = ANY($1::uuid[]) AND NOT failed ORDER BY app_uuid, version DESC",
        keys,
    ):
        data.releases[row["app_uuid"]] = row
    config_ids = [r["config_uuid"] for r in data.releases.values()]
    build_ids = [r["build_uuid"] for r in data.releases.values() if r["build_uuid"] is not None]
    for row in await tx.rows(
        f"SELECT {CONFIG_COLUMNS} FROM configs WHERE uuid = ANY($1::uuid[])", config_ids
    ):
        data.configs[row["uuid"]] = row
    for row in await tx.rows(f"SELECT {BUILD_COLUMNS} FROM builds WHERE uuid = ANY($1::uuid[])", build_ids):
        data.builds[row["uuid"]] = row
