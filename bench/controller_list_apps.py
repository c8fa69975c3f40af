"""Controller app listing: page through 10,000 apps as an admin (and as a user owning half of them).

Starts Postgres and NATS in this process, runs the controller in-process, creates a few apps through the
API and 10,000 more straight in its database (listing reads only the apps table and the grants), then
GETs ``/v2/apps/?limit=100&offset=...`` following ``next`` until the end, timing each page over HTTP.
Checks that every app is listed exactly once and in order. Prints median, p95 and max per page.
Target: a page in under 50 ms. Run: ``uv run python -m bench controller_list_apps`` (env BENCH_APPS).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from deis_common.testing.nats import nats_server
from deis_common.testing.postgres import create_database, postgres_cluster
from deis_controller.db import Database
from tests.controller.harness import RunningController, running_controller

APPS = int(os.environ.get("BENCH_APPS", "10000"))


async def seed(dsn: str, owners: list[str]) -> None:
    async with Database.open(dsn) as db, db.transaction() as tx:
        await tx.run(
            "INSERT INTO apps (uuid, id, owner)"
            " SELECT gen_random_uuid(), 'bench-' || lpad(n::text, 6, '0'), ($2::text[])[1 + n % 2]"
            " FROM generate_series(1, $1) AS n",
            APPS,
            owners,
        )


async def walk(api: RunningController, token: str) -> tuple[list[float], list[str]]:
    timings: list[float] = []
    ids: list[str] = []
    path: str | None = "/v2/apps/?limit=100"
    while path is not None:
        started = time.perf_counter()
        r = await api.call("GET", path, token)
        timings.append((time.perf_counter() - started) * 1000)
        assert r.status == 200, r.text
        ids += [a["id"] for a in r.json["results"]]
        path = r.json["next"].removeprefix(api.url) if r.json["next"] else None
    return timings, ids


def report(who: str, timings: list[float], listed: int) -> None:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(
        f"{who}: {listed} apps in {len(timings)} pages of 100 — per page"
        f" median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms,"
        f" max {max(timings):.1f} ms (target < 50 ms)"
    )


async def run(dsn: str, nats_url: str) -> None:
    async with running_controller(dsn, nats_url) as api:
        admin = await api.register("admin")
        user = await api.register("user", by=admin)
        for name in ("api-one", "api-two", "api-three"):
            assert (await api.call("POST", "/v2/apps/", admin, json={"id": name})).status == 201
        await seed(dsn, ["admin", "user"])
        await walk(api, admin)  # warm the pool and the plan cache
        timings, ids = await walk(api, admin)
        assert ids == sorted(ids) and len(ids) == len(set(ids)) == APPS + 3, "admin listing is wrong"
        report("admin", timings, len(ids))
        timings, ids = await walk(api, user)
        assert len(ids) == len(set(ids)) == APPS // 2, "user listing is wrong"
        report("owner of half", timings, len(ids))


async def amain() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ctl-") as tmp, postgres_cluster() as cluster:
        dsn = await create_database(cluster)
        with nats_server(Path(tmp) / "nats") as nats:
            await run(dsn, nats.url)


def main() -> None:
    asyncio.run(amain())


if __name__ == "__main__":
    main()
