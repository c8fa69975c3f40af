"""Zero downtime: with a router that follows containers.healthy, deploys and rollbacks drop no request.

The end-to-end suite checks the same through the real nginx and router-sync; here a proxy stands in for
them so the scheduler's part of the ordering (start new, report, wait for routes, only then stop old) is
checked on its own.
"""

from __future__ import annotations

import asyncio
import functools

import pytest

from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import eventually, get
from tests.scheduler.proxy import RoutingProxy
from tests.scheduler.test_rolling_deploy import deploy

pytestmark = pytest.mark.sandbox


async def healthy_at(recorder: EventRecorder, generation: int) -> ContainersHealthy:
    return await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == generation, timeout=30)


async def only_release(bus: Bus, release: str) -> bool:
    ps = await bus.request(PS_SUBJECT, PsRequest(app="steady"), PsReply)
    return [p.release for p in ps.processes] == [release, release]


class Load:
    """Requests sent back to back through the proxy; records every answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sent = 0
        self.failures: list[str] = []
        self.bodies: set[str] = set()

    async def run(self) -> None:
        while True:
            self.sent += 1
            try:
                status, body = await get(f"127.0.0.1:{self.port}", timeout=5)
            except (OSError, TimeoutError, IndexError, ValueError) as e:
                self.failures.append(repr(e))
                continue
            if status != 200:
                self.failures.append(f"{status} {body[:60]}")
            else:
                self.bodies.add(body)


async def test_deploying_and_rolling_back_drops_no_request(
    scheduler: object, router: StandInRouter, bus: Bus, recorder: EventRecorder, store: FsStore
) -> None:
    v2 = await web_release(store, "steady", version=2, structure={"web": 2})
    await deploy(bus, recorder, v2)
    v3 = await web_release(store, "steady", version=3, structure={"web": 2}, env={"GREETING": "new"})
    rollback = v2.model_copy(update={"version": 4, "generation": 4})

    async with RoutingProxy(router, "steady") as proxy:
        load = Load(proxy.port)
        task = asyncio.create_task(load.run())
        try:
            for state in (v3, rollback):
                await bus.publish(ReleaseCreated(app="steady", state=state))
                healthy = await healthy_at(recorder, state.generation)
                assert len(healthy.endpoints) == 2
                await eventually(
                    functools.partial(only_release, bus, f"v{state.version}")
                )  # until old are gone
        finally:
            task.cancel()

    assert load.sent > 50
    assert load.failures == [], f"{len(load.failures)} of {load.sent} requests failed"
    assert {"hello from v2", "new from v3", "hello from v4"} <= load.bodies
