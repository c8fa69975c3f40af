"""A first walk through the API: handshake, users, an app, config, an image build, releases."""

from __future__ import annotations

from deis_common.events.apps import AppCreated
from deis_common.events.releases import ReleaseCreated
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import RunningController


async def test_the_api_root_refuses_anonymous_callers_and_names_its_version(api: RunningController) -> None:
    r = await api.call("GET", "/v2/")
    assert r.status == 401
    assert r.json == {"detail": "Authentication credentials were not provided."}
    assert r.headers["DEIS_API_VERSION"] == "2.3"
    assert r.headers["DEIS_PLATFORM_VERSION"] == "2.3.0"


async def test_a_new_app_gets_release_v1_and_publishes_its_state(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    r = await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    assert r.status == 201, r.text
    assert r.json["id"] == "demo" and r.json["owner"] == "alice" and r.json["structure"] == {}
    await recorder.wait_for(AppCreated, where=lambda e: e.app == "demo")
    created = await recorder.wait_for(ReleaseCreated, where=lambda e: e.app == "demo")
    assert created.version == 1 and created.state.build is None
    r = await api.call("GET", "/v2/apps/demo/releases/", alice)
    assert r.json["count"] == 1
    assert r.json["results"][0]["summary"] == "alice created initial release"


async def test_config_and_image_builds_make_numbered_releases(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"FOO": "bar", "N": 5}})
    assert r.status == 201, r.text
    assert r.json["values"] == {"FOO": "bar", "N": "5"}
    r = await api.call("POST", "/v2/apps/demo/builds/", alice, json={"image": "example/web:1"})
    assert r.status == 201, r.text
    created = await recorder.wait_for(ReleaseCreated, where=lambda e: e.app == "demo" and e.version == 3)
    assert created.state.structure == {"cmd": 1}
    assert created.state.env == {"FOO": "bar", "N": "5"}
    assert created.state.build is not None and created.state.build.location == "example/web:1"
    r = await api.call("GET", "/v2/apps/demo/releases/", alice)
    assert [x["summary"] for x in r.json["results"]] == [
        "alice deployed example/web:1",
        "alice added FOO, N",
        "alice created initial release",
    ]


async def test_browsers_may_call_the_api_from_any_origin(api: RunningController) -> None:
    headers = {"Origin": "http://example.com", "Access-Control-Request-Method": "POST"}
    r = await api.call("OPTIONS", "/v2/apps/", headers=headers)
    assert r.status == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "DEIS_API_VERSION" in r.headers["Access-Control-Expose-Headers"]


async def test_api_requests_are_counted_and_events_carry_the_request_correlation_id(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    r = await api.call(
        "POST", "/v2/apps/", alice, json={"id": "traced"}, headers={"X-Correlation-ID": "req-42"}
    )
    assert r.status == 201
    await recorder.wait_for(AppCreated, where=lambda e: e.app == "traced")
    (envelope,) = [e for e in recorder.envelopes if e.type == AppCreated.subject]
    assert envelope.correlation_id == "req-42"
    async with api.session.get(api.url + "/metrics") as resp:
        text = await resp.text()
    assert 'deis_controller_http_requests_total{method="POST",route="/v2/apps/",status="201"} 1.0' in text
    assert "deis_controller_outbox_unsent" in text
