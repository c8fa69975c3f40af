"""Snapshot pages written by Postgres hold exactly what the controller composes for each app in Python."""

from __future__ import annotations

from deis_common.events.state import AppSnapshot
from deis_controller.db import Database, Tx, snapshot_json
from deis_controller.domain.state import snapshots
from deis_controller.handlers.snapshot import PageSizer
from tests.controller.harness import RunningController
from tests.controller.many_apps import seed_apps

# Each app of the seed is changed into one of the shapes an app's rows can take.
VARIANTS = [
    # config sections with values that are not strings (not written by the API, but possible in rows)
    """UPDATE configs SET "values" = '{"N": 5, "F": 1.5, "B": true, "Z": null, "S": "s"}',
       memory = '{"web": "512M"}', cpu = '{"web": 2}', tags = '{"disk": "ssd"}',
       registry = '{"username": "u", "password": "p"}',
       healthcheck = '{"web/cmd": {"livenessProbe": {"initialDelaySeconds": 5}},
                       "web": {"readinessProbe": {"timeoutSeconds": 1}}, "worker": {}}'
       WHERE app_uuid = $1""",
    "UPDATE configs SET healthcheck = '{\"web/cmd\": {\"livenessProbe\": {\"periodSeconds\": 3}}}'"
    " WHERE app_uuid = $1",
    "UPDATE builds SET dockerfile = 'FROM scratch', sha = '' WHERE app_uuid = $1",
    "UPDATE builds SET sha = '', image = 'registry.example.com/demo:v1' WHERE app_uuid = $1",
    """UPDATE builds SET artifact = '{"kind": "image", "location": "r/x:1", "rootfs": "home/x/rootfs.tar",
       "image": {"cmd": ["./run"], "exposed_ports": [8080]}}' WHERE app_uuid = $1""",
    "UPDATE builds SET artifact = '{}' WHERE app_uuid = $1",
    "UPDATE releases SET build_uuid = NULL WHERE app_uuid = $1",
    # the latest release failed: the state is the one before it
    """INSERT INTO releases (uuid, app_uuid, owner, version, failed, generation, config_uuid)
       SELECT gen_random_uuid(), app_uuid, owner, 2, true, 2, config_uuid
       FROM releases WHERE app_uuid = $1""",
    "DELETE FROM releases WHERE app_uuid = $1",
    """INSERT INTO app_settings (uuid, app_uuid, owner, maintenance, routable, whitelist, autoscale)
       VALUES (gen_random_uuid(), $1, 'admin', true, false, '["1.2.3.4"]',
               '{"web": {"min": 1, "max": 3, "cpu_percent": 50}}')""",
    "DELETE FROM app_settings WHERE app_uuid = $1",
    "INSERT INTO tls (uuid, app_uuid, owner, https_enforced) VALUES (gen_random_uuid(), $1, 'admin', true)",
    "INSERT INTO tls (uuid, app_uuid, owner, https_enforced) VALUES (gen_random_uuid(), $1, 'admin', NULL)",
    """WITH cert AS (INSERT INTO certificates (name, owner, certificate, key, fingerprint)
                     VALUES ('demo-cert', 'admin', 'CERT PEM', 'KEY PEM', 'ab:cd') RETURNING id)
       UPDATE domains SET certificate_id = (SELECT id FROM cert) WHERE app_uuid = $1
       AND domain LIKE 'www.%'""",
    "DELETE FROM domains WHERE app_uuid = $1",
    "UPDATE apps SET endpoints = '[\"10.0.0.1:5000\", \"10.0.0.2:5000\"]', endpoints_generation = 7,"
    " structure = '{\"web\": 2, \"worker\": 0}', generation = 7 WHERE uuid = $1",
]


async def varied_apps(pg_dsn: str) -> list[str]:
    async with Database.open(pg_dsn) as db:
        names = await seed_apps(db, owner="admin", count=len(VARIANTS) + 3)
        async with db.transaction() as tx:
            for name, sql in zip(names, VARIANTS, strict=False):
                await tx.run(sql, await tx.val("SELECT uuid FROM apps WHERE id = $1", name))
    return names


async def every_page(tx: Tx, *, limit: int, budget: int, with_state: bool) -> list[AppSnapshot]:
    out: list[AppSnapshot] = []
    after = None
    while True:
        page = await snapshot_json.page(tx, after=after, limit=limit, budget=budget, with_state=with_state)
        out += [AppSnapshot.model_validate_json(doc) for doc in page.docs]
        if len(page.docs) == page.listed < limit:
            return out
        after = page.last


async def test_pages_written_by_postgres_hold_what_python_composes(
    api: RunningController, admin: str, pg_dsn: str
) -> None:
    names = await varied_apps(pg_dsn)
    async with Database.open(pg_dsn) as db, db.read() as tx:
        for with_state in (True, False):
            composed = await snapshots(tx, None, with_state=with_state)
            assert [item.app for item in composed] == names
            if with_state:  # the shapes are there
                assert composed[0].state is not None and composed[0].state.env["B"] == "True"
                assert composed[7].state is not None and composed[7].state.version == 1
                assert composed[8].state is None
                assert composed[13].certs[0].key == "KEY PEM"
            for limit, budget in ((5, 1_000_000), (1000, 1_000_000), (1000, 6000), (3, 1)):
                paged = await every_page(tx, limit=limit, budget=budget, with_state=with_state)
                for mine, theirs in zip(paged, composed, strict=True):
                    assert mine == theirs, mine.app


async def test_a_page_stops_where_its_byte_budget_does_but_holds_one_app_at_least(
    api: RunningController, admin: str, pg_dsn: str
) -> None:
    async with Database.open(pg_dsn) as db:
        await seed_apps(db, owner="admin", count=30)
        async with db.read() as tx:
            one = await snapshot_json.page(tx, after=None, limit=30, budget=1)
            assert len(one.docs) == 1 and one.listed == 30
            size = len(one.docs[0]) + 1
            some = await snapshot_json.page(tx, after=None, limit=30, budget=size * 10 + size // 2)
            assert len(some.docs) == 10 and some.last == "app-000010"


def test_pages_read_as_many_apps_as_the_last_page_says_fit() -> None:
    sizer = PageSizer()
    assert sizer.limit(500, 100_000, True) == 500  # nothing known yet
    sizer.observe(["x" * 999] * 10, True)
    assert sizer.limit(500, 100_000, True) == 120  # 100 fit, and some room
    assert sizer.limit(500, 100_000, False) == 500  # routing-only apps are sized apart
    assert sizer.limit(50, 100_000, True) == 50

