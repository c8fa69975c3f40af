"""Hostile but plausible input gets a JSON 4xx naming what is wrong, never a server error."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import jsonschema

from deis_common.bus import Bus
from deis_common.events.apps import AppScaled
from deis_common.events.containers import ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import ProcessInfo
from deis_common.testing.reacting import reacting
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import ApiResponse, RunningController, running_controller

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@x"


async def raw(
    api: RunningController,
    method: str,
    path: str,
    token: str | None,
    data: bytes | str = b"",
    headers: dict[str, str] | None = None,
) -> ApiResponse:
    """A request with a body sent as given (what a JSON encoder would never produce)."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        headers["Authorization"] = f"token {token}"
    body = data.encode() if isinstance(data, str) else data
    async with api.session.request(method, api.url + path, data=body, headers=headers) as resp:
        text = await resp.text()
        return ApiResponse(resp.status, dict(resp.headers), text, await resp.json(content_type=None))


def refused(r: ApiResponse, status: int = 400, *mentions: str) -> str:
    """The 4xx ``{"detail": ...}`` of ``r``, checked to name each of ``mentions``."""
    assert r.status == status, (r.status, r.text)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    detail = r.json["detail"]
    assert isinstance(detail, str)
    for word in mentions:
        assert word in detail, (word, detail)
    return detail


async def test_nul_characters_and_lone_surrogates_are_refused_naming_the_field(
    api: RunningController, alice: str
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("POST", "/v2/keys/", alice, json={"id": "a\x00b", "public": PUBLIC_KEY})
    refused(r, 400, "id", "NUL")
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": "x\x00y"}})
    refused(r, 400, "values.A", "NUL")
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": '{"A": "x\\u0000"}'})
    refused(r, 400, "values.A", "NUL")
    r = await api.call("POST", "/v2/apps/demo/settings/", alice, json={"label": {"\x00x": ""}})
    refused(r, 400, "label", "keys", "NUL")
    r = await raw(api, "POST", "/v2/apps/", alice, '{"id": "\\ud800x"}')
    refused(r, 400, "id", "surrogate")
    r = await raw(api, "POST", "/v2/apps/demo/config/", alice, '{"values": {"A": "\\udfff"}}')
    refused(r, 400, "values.A", "surrogate")
    r = await raw(api, "POST", "/v2/apps/demo/config/", alice, b'{"values": {"A": "\xff"}}')
    refused(r, 400, "JSON parse error")
    r = await raw(api, "POST", "/v2/apps/demo/config/", alice, '{"values": {"A": ' + "1" * 5000 + "}}")
    refused(r, 400, "JSON parse error")
    # a pair is a character like any other
    r = await raw(api, "POST", "/v2/apps/demo/config/", alice, '{"values": {"A": "\\ud83d\\ude00"}}')
    assert r.status == 201 and r.json["values"] == {"A": "\U0001f600"}
    for method, path in [
        ("GET", "/v2/keys/%00"),
        ("DELETE", "/v2/keys/%00"),
        ("GET", "/v2/certs/%00"),
        ("DELETE", "/v2/certs/%00/"),
        ("DELETE", "/v2/apps/demo/domains/a%00b/"),
        ("GET", "/v2/hooks/key/%00"),
    ]:
        headers = {"X-Deis-Builder-Auth": api.builder_key} if "hooks" in path else None
        r = await api.call(method, path, alice, headers=headers)
        refused(r, 400, "path parameter", "NUL")
    r = await api.call("GET", "/v2/apps/?limit=%00", alice)
    refused(r, 400, "query parameter 'limit'", "NUL")
    r = await api.call("GET", "/v2/events?app=%00", alice)
    refused(r, 400, "query parameter 'app'", "NUL")
    # nothing was stored on the way
    r = await api.call("GET", "/v2/apps/demo/settings/", alice)
    assert r.json["label"] == {}


async def test_numbers_beyond_what_postgres_stores_are_refused_or_not_found(
    api: RunningController, alice: str
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await api.call("POST", "/v2/apps/demo/builds/", alice, json={"image": "ex/img"})
    for body in ('{"version": 1e309}', '{"version": -1e309}', '{"version": NaN}', '{"version": Infinity}'):
        r = await raw(api, "POST", "/v2/apps/demo/releases/rollback/", alice, body)
        refused(r, 400)
    r = await raw(api, "POST", "/v2/apps/demo/releases/rollback/", alice, '{"version": 1e309}')
    refused(r, 400, "version", "finite")
    r = await api.call("POST", "/v2/apps/demo/releases/rollback/", alice, json={"version": 2**63})
    refused(r, 400, "version", "64 bits")
    for version in (2**31, "9223372036854775808"):
        r = await api.call("POST", "/v2/apps/demo/releases/rollback/", alice, json={"version": version})
        assert (r.status, r.json) == (400, {"detail": "Release matching query does not exist."}), r.text
    for version in (1.5, "9" * 5000, [2]):
        r = await api.call("POST", "/v2/apps/demo/releases/rollback/", alice, json={"version": version})
        refused(r, 400, "version must be an integer")
    for query in (
        "limit=99999999999999999999",
        "offset=99999999999999999999",
        "offset=-99999999999999999999",
    ):
        r = await api.call("GET", f"/v2/apps/?{query}", alice)
        refused(r, 400, query.split("=")[0], "64 bits")
    r = await api.call("GET", f"/v2/apps/?offset={2**63 - 1}&limit={2**63 - 1}", alice)
    assert r.status == 200 and r.json["results"] == []
    for version in ("99999999999999999999", "2147483648", "9" * 5000):
        r = await api.call("GET", f"/v2/apps/demo/releases/v{version}/", alice)
        assert (r.status, r.json) == (404, "No Release matches the given query."), version
    r = await api.call("GET", "/v2/apps/demo/releases/v2/", alice)
    assert r.status == 200


def _posts_with_a_body(spec: dict[str, Any]) -> list[str]:
    """Every POST route that takes a request body, with its path parameters filled in."""
    names = {"id": "demo", "name": "cert", "domain": "example.com", "type": "web"}
    return [
        re.sub(r"\{(\w+)\}", lambda m: names.get(m.group(1), "x"), path)
        for path, item in spec["paths"].items()
        if "requestBody" in item.get("post", {})
    ]


async def test_deeply_nested_json_is_refused_on_every_post(api: RunningController, admin: str) -> None:
    alice = admin  # may use every route
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    spec = (await api.call("GET", "/v2/openapi.json")).json
    routes = _posts_with_a_body(spec)
    assert len(routes) > 20 and "/v2/apps/demo/scale/" in routes
    deep = '{"a": ' + "[" * 1_000 + "]" * 1_000 + "}"
    deeper = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    builder = {"X-Deis-Builder-Auth": api.builder_key}
    for path in routes:
        for body in (deep, deeper):
            if "/hooks/" in path:
                r = await raw(api, "POST", path, None, body, headers=builder)
            else:
                r = await raw(api, "POST", path, alice, body)
            refused(r, 400, "nested deeper than 64 levels")
    # the limit is generous: a config holds its probes a few levels down
    probe = {"httpGet": {"port": 5000, "httpHeaders": [{"name": "X", "value": "y"}]}}
    r = await api.call(
        "POST", "/v2/apps/demo/config/", alice, json={"healthcheck": {"web": {"livenessProbe": probe}}}
    )
    assert r.status == 201, r.text


async def test_a_body_over_the_size_limit_is_a_json_413(api: RunningController, alice: str) -> None:
    big = '{"id": "' + "x" * (2 * 1024 * 1024) + '"}'
    r = await raw(api, "POST", "/v2/apps/", alice, big)
    refused(r, 413, "larger than 1048576 bytes")


async def test_the_frameworks_own_errors_are_json(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    for path in ("/v2/nothing-here/", "/v2/apps/UPPER/", "/nothing", "/v2/keys"):
        method = "DELETE" if path == "/v2/keys" else "GET"
        r = await api.call(method, path, alice)
        if path == "/v2/keys":
            assert (r.status, r.json) == (405, {"detail": 'Method "DELETE" not allowed.'})
        else:
            assert (r.status, r.json) == (404, {"detail": "Not found."}), path
    r = await api.call("POST", "/healthz")
    assert r.status == 405 and r.json == {"detail": "Method Not Allowed"} and "GET" in r.headers["Allow"]
    r = await api.call("PUT", "/v2/apps/demo/", alice)
    assert (r.status, r.json) == (405, {"detail": 'Method "PUT" not allowed.'})


async def test_account_operations_refuse_values_of_the_wrong_kind(
    api: RunningController, admin: str, alice: str
) -> None:
    before = (await api.call("GET", "/v2/auth/whoami", alice)).json
    for value in ([], {}, 5, True):
        r = await api.call("POST", "/v2/auth/tokens/", alice, json={"username": value})
        assert r.status == 400 and r.json == {"username": ["Not a valid string."]}, (value, r.text)
        r = await api.call("DELETE", "/v2/auth/cancel", alice, json={"username": value})
        assert r.status == 400, (value, r.text)
        r = await api.call("POST", "/v2/auth/login/", json={"username": value, "password": "x"})
        assert r.status == 400 and "username" in r.json, (value, r.text)
    # alice's token and account survived all of that
    assert (await api.call("GET", "/v2/auth/whoami", alice)).json == before
    r = await api.call("POST", "/v2/auth/tokens/", admin, json={"all": "maybe"})
    assert r.status == 400 and "all" in r.json
    r = await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("POST", "/v2/apps/demo/", alice, json={"owner": ["bob"]})
    assert r.status == 400 and r.json == {"owner": ["Not a valid string."]}


async def test_usernames_with_odd_characters_are_refused(api: RunningController, admin: str) -> None:
    for username in ("bob\n", "bob\x00", "bo b", "bob/", "a" * 151):
        r = await api.call("POST", "/v2/auth/register/", admin, json={"username": username, "password": "pw"})
        assert r.status == 400, (username, r.text)
        assert isinstance(r.json, dict) and ("username" in r.json or "detail" in r.json), r.text
        r = await api.call("POST", "/v2/auth/login/", json={"username": username, "password": "pw"})
        assert r.status == 400, (username, r.text)
    r = await raw(api, "POST", "/v2/auth/login/", None, '{"username": "\\udc80", "password": "pw"}')
    refused(r, 400, "username", "surrogate")
    r = await api.call(
        "POST", "/v2/auth/register/", admin, json={"username": "bob.o+k@x-y_z", "password": "pw"}
    )
    assert r.status == 201, r.text


async def test_a_token_that_is_not_ascii_is_an_invalid_token(api: RunningController, alice: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", int(api.url.rsplit(":", 1)[1]))
    for header in (b"Authorization: token \xff\xfe", b"X-Deis-Builder-Auth: \xff"):
        path = b"/v2/apps/" if header.startswith(b"Authorization") else b"/v2/hooks/key/aa"
        writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n")
        await writer.drain()
        status = await reader.readline()
        assert status.split()[1] == b"401", status
        length = 0
        while (line := await reader.readline()) != b"\r\n":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
    writer.close()
    await writer.wait_closed()


async def test_a_long_ssh_key_is_stored_like_a_short_one(api: RunningController, alice: str) -> None:
    blob = "AAAAB3NzaC1yc2EAAAADAQABAAAIAQ" + "Q" * 2700 + "=="
    r = await api.call("POST", "/v2/keys/", alice, json={"id": "big", "public": f"ssh-rsa {blob} me@x"})
    assert r.status == 201, r.text
    r = await api.call("POST", "/v2/keys/", alice, json={"id": "big2", "public": f"ssh-rsa {blob} me@x"})
    assert r.status == 400 and r.json == {"public": ["Public Key is already in use"]}


def failing_scheduler(bus: Bus) -> contextlib.AbstractAsyncContextManager[None]:
    """Runs every release, except one of an image named ``broken``: that deploy fails."""

    async def answer(event: ReleaseCreated | AppScaled) -> None:
        if event.state is None or event.state.build is None:
            return
        if "broken" in event.state.build.location:
            failed = DeployFailed(
                app=event.app,
                generation=event.generation,
                version=event.state.version,
                reason="web exited right after it started",
            )
            await bus.publish(failed)
        else:
            await bus.publish(
                ContainersHealthy(app=event.app, generation=event.generation, version=event.state.version)
            )

    return reacting(bus, ReleaseCreated, AppScaled, to=answer)


async def test_the_build_hook_waits_for_the_deploy_and_reports_a_failed_one(
    pg_dsn: str, nats_url: str, bus: Bus, recorder: EventRecorder
) -> None:
    async with failing_scheduler(bus), running_controller(pg_dsn, nats_url, deploy_wait=20.0) as api:
        token = await api.register("alice")
        await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
        push = {"receive_user": "alice", "receive_repo": "demo", "procfile": {"web": "serve"}}
        r = await api.hook("POST", "/v2/hooks/build/", json={**push, "image": "ex/img", "sha": "a" * 40})
        assert (r.status, r.json) == (200, {"release": {"version": 2}}), r.text
        r = await api.hook("POST", "/v2/hooks/build/", json={**push, "image": "ex/broken", "sha": "b" * 40})
        assert (r.status, r.json) == (400, {"detail": "web exited right after it started"}), r.text
        # the release is marked failed, and the last good one runs again
        await recorder.wait_for(ReleaseCreated, where=lambda e: e.rollback_of == 2, timeout=10)
        r = await api.call("GET", "/v2/apps/demo/releases/", token)
        assert [(x["version"], x["failed"]) for x in r.json["results"]] == [(3, True), (2, False), (1, False)]


async def test_pod_lists_conform_to_the_published_schema(pg_dsn: str, nats_url: str, bus: Bus) -> None:
    async def ps(request: PsRequest) -> PsReply:
        return PsReply(
            app=request.app,
            processes=[
                ProcessInfo(name="demo-web-123456789-x2b4z", type="web", release="v2"),
                ProcessInfo(name="demo-worker-987654321-q7v2n", type="worker", release="v2", state="crashed"),
            ],
        )

    sub = await bus.serve(PS_SUBJECT, PsRequest, ps, queue="scheduler")
    try:
        async with running_controller(pg_dsn, nats_url) as api:
            token = await api.register("alice")
            await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
            procfile = {"web": "serve", "worker": "work"}
            await api.call("POST", "/v2/apps/demo/builds/", token, json={"image": "i", "procfile": procfile})
            spec = (await api.call("GET", "/v2/openapi.json")).json

            def conforms(body: Any, template: str, method: str = "get") -> None:
                response = spec["paths"][template][method]["responses"]["200"]
                schema = response["content"]["application/json"]["schema"]
                jsonschema.validate(body, {**schema, "components": spec["components"]})

            for path, template in [
                ("/v2/apps/demo/pods/", "/v2/apps/{id}/pods/"),
                ("/v2/apps/demo/pods/web/", "/v2/apps/{id}/pods/{type}/"),
                ("/v2/apps/demo/pods/web/demo-web-123456789-x2b4z/", "/v2/apps/{id}/pods/{type}/{name}/"),
            ]:
                r = await api.call("GET", path, token)
                assert r.status == 200
                conforms(r.json, template)
                assert r.json["count"] == len(r.json["results"]) >= 1
                assert all(p["started"] for p in r.json["results"])
            r = await api.call("POST", "/v2/apps/demo/pods/restart/", token)
            conforms(r.json, "/v2/apps/{id}/pods/restart/", "post")
    finally:
        await sub.unsubscribe()
