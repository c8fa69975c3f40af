"""Apps: naming rules, listing and paging, transfer and destruction."""

from __future__ import annotations

import re

from deis_common.events.apps import AppDestroyed
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import RunningController


async def test_an_app_without_a_name_gets_a_generated_one(api: RunningController, alice: str) -> None:
    r = await api.call("POST", "/v2/apps/", alice, json={})
    assert r.status == 201
    assert re.match(r"^[a-z]+-[a-z]+$", r.json["id"])
    assert r.json["url"] == f"{r.json['id']}.localhost:8080"


async def test_app_names_follow_the_rules(api: RunningController, alice: str) -> None:
    r = await api.call("POST", "/v2/apps/", alice, json={"id": "a" * 64})
    assert r.json == {"id": ["Ensure this field has no more than 63 characters."]}
    r = await api.call("POST", "/v2/apps/", alice, json={"id": "9lives"})
    assert r.status == 400 and "App name must start with an alphabetic character" in r.json["id"][0]
    r = await api.call("POST", "/v2/apps/", alice, json={"id": "ends-"})
    assert r.status == 400
    r = await api.call("POST", "/v2/apps/", alice, json={"id": "deis"})
    assert r.json == {"id": ["deis is a reserved name."]}
    await api.call("POST", "/v2/apps/", alice, json={"id": "taken"})
    r = await api.call("POST", "/v2/apps/", alice, json={"id": "taken"})
    assert r.json == {"id": ["Application with this id already exists."]}


async def test_a_new_app_has_its_own_name_as_its_only_domain(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("GET", "/v2/apps/demo/domains/", alice)
    assert [d["domain"] for d in r.json["results"]] == ["demo"]


async def test_a_new_apps_log_tells_its_creation_in_workflows_order(
    api: RunningController, alice: str
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("GET", "/v2/apps/demo/logs/", alice)
    assert r.status == 200, r.text
    messages = [line.split(" ", 1)[1] for line in r.text.splitlines()]
    config = (await api.call("GET", "/v2/apps/demo/config/", alice)).json["uuid"][:7]
    settings = (await api.call("GET", "/v2/apps/demo/settings/", alice)).json["uuid"][:7]
    assert messages == [
        f"deis[controller]: INFO config demo-{config} updated",
        "deis[controller]: INFO alice created initial release",
        f"deis[controller]: INFO appsettings demo-{settings} updated",
        "deis[controller]: INFO domain demo added",
    ]


async def test_apps_page_in_name_order_with_next_and_previous_links(
    api: RunningController, alice: str
) -> None:
    for name in ("c-app", "a-app", "b-app"):
        await api.call("POST", "/v2/apps/", alice, json={"id": name})
    r = await api.call("GET", "/v2/apps/?limit=2", alice)
    assert r.json["count"] == 3 and [a["id"] for a in r.json["results"]] == ["a-app", "b-app"]
    assert r.json["previous"] is None and r.json["next"].endswith("/v2/apps/?limit=2&offset=2")
    r = await api.call("GET", "/v2/apps/?limit=2&offset=2", alice)
    assert [a["id"] for a in r.json["results"]] == ["c-app"]
    assert r.json["next"] is None and r.json["previous"].endswith("/v2/apps/?limit=2")


async def test_users_see_only_their_apps_and_admins_see_all(
    api: RunningController, admin: str, alice: str, bob: str
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "alices"})
    await api.call("POST", "/v2/apps/", bob, json={"id": "bobs"})
    assert [a["id"] for a in (await api.call("GET", "/v2/apps/", bob)).json["results"]] == ["bobs"]
    assert [a["id"] for a in (await api.call("GET", "/v2/apps/", admin)).json["results"]] == [
        "alices",
        "bobs",
    ]
    r = await api.call("GET", "/v2/apps/alices/", bob)
    assert (r.status, r.json) == (403, {"detail": "You do not have permission to perform this action."})
    r = await api.call("GET", "/v2/apps/ghost/", bob)
    assert (r.status, r.json) == (404, "No App matches the given query.")


async def test_unmapped_methods_and_bad_ids(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("PUT", "/v2/apps/demo/", alice)
    assert (r.status, r.json) == (405, {"detail": 'Method "PUT" not allowed.'})
    assert (await api.call("PUT", "/v2/apps/demo/")).status == 401
    assert (await api.call("GET", "/v2/apps/Demo/", alice)).status == 404


async def test_transfer_hands_the_app_and_its_records_to_the_new_owner(
    api: RunningController, alice: str, bob: str
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("POST", "/v2/apps/demo/", alice, json={"owner": "bob"})
    assert r.status == 200
    r = await api.call("GET", "/v2/apps/demo/", bob)
    assert r.json["owner"] == "bob"
    assert (await api.call("GET", "/v2/apps/demo/", alice)).status == 403
    r = await api.call("GET", "/v2/apps/demo/releases/v1/", bob)
    assert r.json["owner"] == "bob"
    r = await api.call("POST", "/v2/apps/demo/", bob, json={"owner": "ghost"})
    assert r.status == 404


async def test_destroying_an_app_announces_it(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": "1"}})
    await api.call("POST", "/v2/apps/demo/builds/", alice, json={"image": "ex/img"})
    await api.call("POST", "/v2/apps/demo/domains/", alice, json={"domain": "demo.example.com"})
    assert (await api.call("DELETE", "/v2/apps/demo/", alice)).status == 204
    await recorder.wait_for(AppDestroyed, where=lambda e: e.app == "demo")
    assert (await api.call("GET", "/v2/apps/demo/", alice)).status == 404
    r = await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    assert r.status == 201
