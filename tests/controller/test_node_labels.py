"""``tags:set`` is checked against the labels of the nodes (DEIS_NODE_LABELS), as Workflow checked them
against Kubernetes' nodes; requests are sent as the original Workflow CLI sends them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from deis_controller.settings import ControllerSettings
from tests.controller.harness import RunningController, running_controller

NODE = '{"kubernetes.io/hostname": "box", "disk": "ssd", "zone": "a"}'
# what workflow-cli's `deis tags:set` sends: POST /v2/apps/<app>/config/ with {"tags": {...}}
CLI_HEADERS = {"Content-Type": "application/json", "User-Agent": "Deis Client v2.21.0"}


@pytest_asyncio.fixture
async def node_api(pg_dsn: str, nats_url: str) -> AsyncIterator[RunningController]:
    async with running_controller(pg_dsn, nats_url, node_labels=NODE) as ctl:
        yield ctl


async def tags_set(api: RunningController, token: str, app: str, tags: dict[str, str | None]) -> tuple:  # type: ignore[type-arg]
    r = await api.call("POST", f"/v2/apps/{app}/config/", token, json={"tags": tags}, headers=CLI_HEADERS)
    return r.status, r.json


async def test_tags_the_node_carries_are_accepted(node_api: RunningController) -> None:
    token = await node_api.register("alice")
    await node_api.call("POST", "/v2/apps/", token, json={"id": "demo"})

    status, config = await tags_set(node_api, token, "demo", {"disk": "ssd"})
    assert (status, config["tags"]) == (201, {"disk": "ssd"})
    status, config = await tags_set(node_api, token, "demo", {"zone": "a", "kubernetes.io/hostname": "box"})
    assert (status, config["tags"]) == (201, {"disk": "ssd", "zone": "a", "kubernetes.io/hostname": "box"})


async def test_a_tag_no_node_carries_is_refused_with_workflows_message(node_api: RunningController) -> None:
    token = await node_api.register("alice")
    await node_api.call("POST", "/v2/apps/", token, json={"id": "demo"})

    assert await tags_set(node_api, token, "demo", {"disk": "hdd"}) == (
        400,
        {"detail": "No nodes matched the provided labels: disk=hdd"},
    )
    assert (await tags_set(node_api, token, "demo", {"disk": "ssd"}))[0] == 201
    assert await tags_set(node_api, token, "demo", {"zone": "b"}) == (
        400,
        {
            "detail": "No nodes matched the provided labels: disk=ssd, zone=b"
            + " - Addition of zone=b is the cause"
        },
    )
    # nothing was saved: the app keeps its tags and no release was made
    r = await node_api.call("GET", "/v2/apps/demo/config/", token)
    assert r.json["tags"] == {"disk": "ssd"}
    r = await node_api.call("GET", "/v2/apps/demo/releases/", token)
    assert r.json["count"] == 2
    # unsetting brings the tags back onto the node
    assert (await tags_set(node_api, token, "demo", {"disk": None}))[0] == 201


async def test_without_known_nodes_any_well_formed_tag_is_accepted(
    api: RunningController, alice: str
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    assert (await tags_set(api, alice, "demo", {"disk": "hdd"}))[0] == 201


def test_node_labels_are_json_objects_or_key_value_pairs() -> None:
    assert ControllerSettings(node_labels='[{"a": "1"}, {"b": "2"}]').nodes == [{"a": "1"}, {"b": "2"}]
    assert ControllerSettings(node_labels="disk=ssd,example.com/zone=a,empty=").nodes == [
        {"disk": "ssd", "example.com/zone": "a", "empty": ""}
    ]
    assert ControllerSettings(node_labels="").nodes is None
    with pytest.raises(ValueError, match="node labels"):
        ControllerSettings(node_labels='"ssd"')
    with pytest.raises(ValueError, match="node labels"):
        ControllerSettings(node_labels="ssd")
