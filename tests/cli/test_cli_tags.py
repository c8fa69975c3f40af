"""tags:set against a controller that knows the node's labels (as the embedded platform's controller does)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio


@pytest_asyncio.fixture
async def controller(pg_dsn: str, nats_url: str) -> AsyncIterator[Any]:
    from tests.controller.harness import running_controller

    async with running_controller(pg_dsn, nats_url, node_labels='{"disk": "ssd"}') as ctl:
        yield ctl


async def test_tags_set_takes_the_nodes_labels_and_refuses_others(deis, admin) -> None:
    assert (await deis("create", "placed", "--no-remote")).ok
    a = ("-a", "placed")

    tagged = await deis("tags:set", "disk=ssd", *a)
    assert tagged.ok, tagged
    assert tagged.stdout.endswith("=== placed Tags\ndisk     ssd\n"), tagged
    refused = await deis("tags:set", "disk=hdd", *a)
    assert refused.returncode == 1
    assert "No nodes matched the provided labels: disk=hdd - Addition of disk=hdd is the cause" in (
        refused.stderr
    )
    assert (await deis("tags", *a)).stdout == "=== placed Tags\ndisk     ssd\n"
