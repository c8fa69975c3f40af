"""``GET /v2/events``: a user sees the events of the apps they may see, never a config value.

The controller runs with its own NATS credentials on a server that enforces the platform's permissions,
so the stream also proves the controller may read every event it forwards.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio

from deis_common.bus import Bus
from deis_common.events import BackupCompleted
from deis_common.testing.nats import NatsServer
from tests.controller.harness import RunningController, running_controller

SECRET = "hunter2-s3cr3t"


@pytest_asyncio.fixture
async def api(pg_dsn: str, secured_nats: NatsServer) -> AsyncIterator[RunningController]:
    async with running_controller(pg_dsn, secured_nats.url, nats=secured_nats.settings("controller")) as ctl:
        yield ctl


@pytest_asyncio.fixture
async def backup_bus(secured_nats: NatsServer) -> AsyncIterator[Bus]:
    bus = await Bus.connect(secured_nats.settings("backup"), source="backup")
    yield bus
    await bus.close()


class Stream:
    """One open ``GET /v2/events`` response, read line by line."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 15) -> dict[str, Any]:
        while True:
            line = await asyncio.wait_for(self.response.content.readline(), timeout)
            assert line, "the stream ended"
            if line.strip():
                envelope: dict[str, Any] = json.loads(line)
                return envelope

    async def until(self, predicate: Any) -> list[dict[str, Any]]:
        """Every envelope up to and including the first that satisfies ``predicate``."""
        seen = [await self.next()]
        while not predicate(seen[-1]):
            seen.append(await self.next())
        return seen


@pytest_asyncio.fixture
async def open_stream(api: RunningController) -> AsyncIterator[Any]:
    responses: list[aiohttp.ClientResponse] = []

    async def open_as(token: str, query: str = "") -> Stream:
        response = await api.session.get(
            f"{api.url}/v2/events/{query}", headers={"Authorization": f"token {token}"}
        )
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("application/x-ndjson")
        responses.append(response)
        return Stream(response)

    yield open_as
    for response in responses:
        response.close()


async def create_app(api: RunningController, token: str, name: str) -> None:
    r = await api.call("POST", "/v2/apps/", token, json={"id": name})
    assert r.status == 201, r.text


async def set_config(api: RunningController, token: str, app: str, values: dict[str, str]) -> None:
    r = await api.call("POST", f"/v2/apps/{app}/config/", token, json={"values": values})
    assert r.status == 201, r.text


async def test_a_user_sees_only_the_events_of_apps_they_may_see_and_no_config_values(
    api: RunningController, open_stream: Any, backup_bus: Bus
) -> None:
    admin = await api.register("admin")
    alice = await api.register("alice", by=admin)
    bob = await api.register("bob", by=admin)
    await create_app(api, bob, "bobs")
    await create_app(api, bob, "shared")
    r = await api.call("POST", "/v2/apps/shared/perms/", bob, json={"username": "alice"})
    assert r.status == 201, r.text

    stream = await open_stream(alice)
    await create_app(api, alice, "alices")
    await set_config(api, alice, "alices", {"SECRET": SECRET})
    await set_config(api, bob, "bobs", {"SECRET": SECRET})
    await backup_bus.publish(BackupCompleted(name="base-1", size_bytes=1, duration_seconds=0.1))
    await set_config(api, bob, "shared", {"SECRET": SECRET, "OTHER": "x"})

    seen = await stream.until(lambda e: "OTHER" in e["data"].get("state", {}).get("env", {}))
    assert {e["subject"] for e in seen} == {"alices", "shared"}
    assert sorted(e["type"] for e in seen if e["subject"] == "alices") == [
        "deis.v1.apps.created",
        "deis.v1.domains.added",
        "deis.v1.releases.created",
        "deis.v1.releases.created",
    ]
    assert SECRET not in json.dumps(seen)
    configured = [e for e in seen if e["data"].get("state", {}).get("env")]
    assert [(e["subject"], e["data"]["state"]["env"]) for e in configured] == [
        ("alices", {"SECRET": "[redacted]"}),
        ("shared", {"SECRET": "[redacted]", "OTHER": "[redacted]"}),
    ]


async def test_an_admin_sees_every_app_and_the_events_of_no_app_redacted_too(
    api: RunningController, open_stream: Any, backup_bus: Bus
) -> None:
    admin = await api.register("admin")
    bob = await api.register("bob", by=admin)
    stream = await open_stream(admin)
    await create_app(api, bob, "bobs")
    await set_config(api, bob, "bobs", {"SECRET": SECRET})
    seen = await stream.until(lambda e: e["data"].get("state", {}).get("env"))
    assert {e["subject"] for e in seen} == {"bobs"}
    assert seen[-1]["data"]["state"]["env"] == {"SECRET": "[redacted]"}
    await backup_bus.publish(BackupCompleted(name="base-1", size_bytes=1, duration_seconds=0.1))
    backup = await stream.next()
    assert (backup["type"], backup["subject"]) == ("deis.v1.backups.completed", None)
    assert SECRET not in json.dumps(seen)


async def test_the_stream_filters_by_app_and_type(api: RunningController, open_stream: Any) -> None:
    admin = await api.register("admin")
    alice = await api.register("alice", by=admin)
    await create_app(api, alice, "one")
    stream = await open_stream(alice, "?app=two&type=releases")  # an app may be awaited before it exists
    await create_app(api, alice, "two")
    await set_config(api, alice, "one", {"A": "1"})
    await set_config(api, alice, "two", {"A": "1"})
    seen = await stream.until(lambda e: e["data"]["state"]["env"])
    assert [(e["type"], e["subject"], e["data"]["version"]) for e in seen] == [
        ("deis.v1.releases.created", "two", 1),
        ("deis.v1.releases.created", "two", 2),
    ]


async def test_streaming_an_app_you_may_not_see_is_refused(api: RunningController) -> None:
    admin = await api.register("admin")
    alice = await api.register("alice", by=admin)
    bob = await api.register("bob", by=admin)
    await create_app(api, bob, "bobs")
    assert (await api.call("GET", "/v2/events/?app=bobs", alice)).status == 403
    assert (await api.call("GET", "/v2/events/")).status == 401


async def test_the_api_document_describes_the_event_stream(api: RunningController) -> None:
    spec = (await api.call("GET", "/v2/openapi.json")).json
    stream = spec["paths"]["/v2/events/"]["get"]
    assert stream["security"] == [{"token": []}]
    assert stream["responses"]["200"]["content"]["application/x-ndjson"]["schema"] == {
        "$ref": "#/components/schemas/Envelope"
    }
