"""Snapshot pages as JSON built by Postgres: the controller forwards the bytes without decoding a row.

A page of the all-apps snapshot is most of what a resync of 100,000 apps costs, and composing it in Python
(decoding each row's jsonb, building the state models, serialising them again) held a scheduler's resync
to a few thousand apps a second. Here one query reads the page in key order (``id > after``, the primary
key's order), builds each app's :class:`~deis_common.events.state.AppSnapshot` as JSON on the way, and
keeps the longest prefix whose JSON fits the byte budget (at least one app), so no app is read that the
page then drops.

The JSON is what :func:`deis_controller.domain.state.snapshots` composes, spelled in SQL: the two must
agree (tests compare them app by app); that function stays the one source for single apps and events.
Sections of string values (config values, limits, tags, registry) are passed through as stored; a section
holding anything else has each value converted the way Python's ``str`` would for JSON scalars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deis_controller.db.pool import Tx


def _strings(section: str) -> str:
    """SQL for a jsonb object of ``section``'s values as strings (``str(v)`` of the Python value)."""
    return (
        f"CASE WHEN NOT jsonb_path_exists({section}, '$.* ? (@.type() != \"string\")') THEN {section}"
        " ELSE (SELECT jsonb_object_agg(key, CASE jsonb_typeof(value)"
        " WHEN 'string' THEN to_jsonb(value #>> '{}')"
        " WHEN 'boolean' THEN to_jsonb(CASE WHEN value::boolean THEN 'True' ELSE 'False' END)"
        " WHEN 'null' THEN to_jsonb('None'::text)"
        f" ELSE to_jsonb(value::text) END) FROM jsonb_each({section})) END"
    )


# the web/cmd healthcheck applies to both types unless one has its own (``|``: the right side wins)
_HEALTHCHECKS = (
    "CASE WHEN c.healthcheck ? 'web/cmd' THEN jsonb_build_object('web', c.healthcheck -> 'web/cmd',"
    " 'cmd', c.healthcheck -> 'web/cmd') || (c.healthcheck - 'web/cmd') ELSE c.healthcheck END"
)

_ARTIFACT = (
    "CASE WHEN jsonb_typeof(b.artifact) = 'object' AND b.artifact <> '{}'::jsonb THEN b.artifact::json"
    " ELSE json_build_object('kind', CASE WHEN b.dockerfile <> '' THEN 'dockerfile'"
    " WHEN b.sha <> '' THEN 'buildpack' ELSE 'image' END,"
    " 'location', b.image, 'sha', b.sha, 'procfile', b.procfile) END"
)

_VALUES = 'c."values"'  # a reserved word

_STATE = (
    "CASE WHEN r.uuid IS NULL THEN NULL ELSE json_build_object("
    "'app', a.id, 'generation', a.generation, 'version', r.version,"
    f" 'build', CASE WHEN b.uuid IS NULL THEN NULL ELSE {_ARTIFACT} END,"
    f" 'env', {_strings(_VALUES)}, 'structure', a.structure,"
    f" 'memory', {_strings('c.memory')}, 'cpu', {_strings('c.cpu')},"
    f" 'healthchecks', {_HEALTHCHECKS}, 'tags', {_strings('c.tags')},"
    " 'summary', r.summary, 'created_at', r.created,"
    " 'autoscale', coalesce(s.autoscale, '{}'::jsonb),"
    f" 'registry', {_strings('c.registry')}) END"
)

_ROUTING = (
    "json_build_object('routable', coalesce(s.routable, true), 'maintenance', coalesce(s.maintenance, false),"
    " 'whitelist', coalesce(s.whitelist, '[]'::jsonb), 'https_enforced', coalesce(t.https_enforced, false))"
)

_DOMAINS = (
    "coalesce((SELECT json_agg(d.domain ORDER BY d.domain) FROM domains d WHERE d.app_uuid = a.uuid),"
    " '[]'::json)"
)

_CERTS = (
    "coalesce((SELECT json_agg(json_build_object('name', x.name, 'domain', d.domain,"
    " 'certificate', x.certificate, 'key', x.key) ORDER BY d.domain)"
    " FROM domains d JOIN certificates x ON x.id = d.certificate_id WHERE d.app_uuid = a.uuid), '[]'::json)"
)


def _app_json(with_state: bool) -> str:
    return (
        "json_build_object('app', a.id, 'state', "
        + (_STATE if with_state else "NULL")
        + f", 'routing', {_ROUTING}, 'domains', {_DOMAINS}, 'certs', {_CERTS},"
        " 'endpoints', a.endpoints, 'endpoints_generation', a.endpoints_generation)::text"
    )


_STATE_JOINS = """
LEFT JOIN LATERAL (SELECT * FROM releases WHERE app_uuid = a.uuid AND NOT failed
                   ORDER BY version DESC LIMIT 1) r ON true
LEFT JOIN configs c ON c.uuid = r.config_uuid
LEFT JOIN builds b ON b.uuid = r.build_uuid"""

_ROUTING_JOINS = """
LEFT JOIN LATERAL (SELECT * FROM app_settings WHERE app_uuid = a.uuid ORDER BY created DESC LIMIT 1) s ON true
LEFT JOIN LATERAL (SELECT * FROM tls WHERE app_uuid = a.uuid ORDER BY created DESC LIMIT 1) t ON true"""


def _page_sql(with_state: bool, after: bool) -> str:
    # The window runs over the apps in name order: each row knows the bytes of the page up to itself
    # (one comma per app), so the page stops where the budget does.
    return f"""
WITH page AS (
    SELECT a.id, {_app_json(with_state)} AS doc
    FROM (SELECT * FROM apps {"WHERE id > $3" if after else ""} ORDER BY id LIMIT $1) a
    {_STATE_JOINS if with_state else ""}
    {_ROUTING_JOINS}
), sized AS (
    SELECT id, doc, sum(octet_length(doc) + 1) OVER (ORDER BY id) AS used,
           row_number() OVER (ORDER BY id) AS n, count(*) OVER () AS listed
    FROM page
)
SELECT id, doc, listed FROM sized WHERE used <= $2 OR n = 1 ORDER BY id"""


@dataclass
class PageJson:
    """A page's apps as JSON texts, in name order, and how many apps the range held before the cut."""

    docs: list[str]
    last: str | None
    listed: int


async def page(tx: Tx, *, after: str | None, limit: int, budget: int, with_state: bool = True) -> PageJson:
    """The apps after ``after`` (at most ``limit``), each as its snapshot's JSON, cut to ``budget`` bytes."""
    args: list[Any] = [limit, budget]
    if after is not None:
        args.append(after)
    rows = await tx.rows(_page_sql(with_state, after is not None), *args)
    return PageJson(
        docs=[row["doc"] for row in rows],
        last=rows[-1]["id"] if rows else None,
        listed=rows[0]["listed"] if rows else 0,
    )
