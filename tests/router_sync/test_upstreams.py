"""Upstreams: names nginx tells apart at their first character, and a limit past which plain apps with one
process are proxied straight to it (a config of 100,000 upstreams takes nginx minutes and gigabytes)."""

from __future__ import annotations

import re

import pytest

from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.routes import RoutesUpdated
from deis_common.testing.recorder import EventRecorder
from deis_router_sync.render import upstream_name
from tests.router_sync.router_harness import RunningRouter, backend, publish_and_wait


@pytest.fixture
def router_options() -> dict[str, object]:
    return {"keepalive_upstreams": 1}


async def healthy(bus: Bus, recorder: EventRecorder, app: str, endpoints: list[str]) -> None:
    event = ContainersHealthy(app=app, generation=1, version=1, endpoints=endpoints)
    await publish_and_wait(bus, recorder, event, RoutesUpdated)


def test_upstream_names_of_apps_with_a_common_prefix_differ_at_their_first_character() -> None:
    names = [upstream_name(f"shop-{n:06d}") for n in range(200)]
    assert len({name[0] for name in names}) == 16
    assert all(re.fullmatch(r"[a-p]{8}-shop-\d{6}", name) for name in names)
    assert upstream_name("shop-000001") == upstream_name("shop-000001")


async def test_past_the_upstream_limit_plain_apps_with_one_process_are_served_straight(
    router: RunningRouter, bus: Bus, recorder: EventRecorder
) -> None:
    async with backend("a") as a, backend("b") as b, backend("c1") as c1, backend("c2") as c2:
        await healthy(bus, recorder, "alpha", [a])
        await healthy(bus, recorder, "beta", [b])
        await healthy(bus, recorder, "gamma", [c1, c2])

        assert (await router.get("alpha.router.test")).backend == "a"
        assert (await router.get("beta.router.test")).backend == "b"
        # several processes still share the requests: their app keeps an upstream past the limit
        assert {(await router.get("gamma.router.test")).backend for _ in range(6)} == {"c1", "c2"}
    config = (router.prefix / "nginx.conf").read_text()
    assert f"upstream {upstream_name('alpha')} {{" in config
    assert f"upstream {upstream_name('beta')} " not in config and f'"{b}";' in config
    assert f"upstream {upstream_name('gamma')} {{" in config
