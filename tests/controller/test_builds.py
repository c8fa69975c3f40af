"""Build rules: first-deploy structure, build type changes, Procfile types that disappear."""

from __future__ import annotations

from tests.controller.harness import RunningController, running_controller


async def structure(api: RunningController, token: str) -> dict[str, int]:
    r = await api.call("GET", "/v2/apps/demo/", token)
    return dict(r.json["structure"])


async def build(api: RunningController, token: str, **body: object) -> None:
    r = await api.call("POST", "/v2/apps/demo/builds/", token, json=body)
    assert r.status == 201, r.text


async def test_the_first_build_sets_the_default_structure(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await build(api, alice, image="slug", sha="abc1234", procfile={"worker": "run"})
    assert await structure(api, alice) == {}
    await api.call("POST", "/v2/apps/", alice, json={"id": "other"})
    r = await api.call("POST", "/v2/apps/other/builds/", alice, json={"image": "slug", "sha": "abc1234"})
    assert r.status == 201
    r = await api.call("GET", "/v2/apps/other/", alice)
    assert r.json["structure"] == {"web": 1}


async def test_a_build_type_change_resets_web_and_cmd(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await build(api, alice, image="slug", sha="abc1234", procfile={"web": "serve"})
    await api.call("POST", "/v2/apps/demo/scale/", alice, json={"web": 3})
    await build(api, alice, image="ex/img:2")
    assert await structure(api, alice) == {"web": 0, "cmd": 1}


async def test_process_types_missing_from_the_new_procfile_are_scaled_to_zero(
    api: RunningController, alice: str
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await build(api, alice, image="slug", sha="abc1234", procfile={"web": "serve", "worker": "work"})
    await api.call("POST", "/v2/apps/demo/scale/", alice, json={"worker": 2})
    await build(api, alice, image="slug", sha="abc5678", procfile={"web": "serve"})
    assert await structure(api, alice) == {"web": 1, "worker": 0}
    r = await api.call("POST", "/v2/apps/demo/scale/", alice, json={"worker": 1})
    assert r.status == 404


async def test_a_missing_procfile_can_be_refused(pg_dsn: str, nats_url: str) -> None:
    async with running_controller(pg_dsn, nats_url, deploy_reject_if_procfile_missing=True) as api:
        token = await api.register("alice")
        await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
        await build(api, token, image="slug", sha="abc1234", procfile={"web": "serve"})
        r = await api.call("POST", "/v2/apps/demo/builds/", token, json={"image": "slug", "sha": "abc5678"})
        assert r.status == 409
        assert r.json["detail"].startswith("Last deployment had a Procfile but is missing in this deploy.")


async def test_builds_list_newest_first_and_show_the_current_build(
    api: RunningController, alice: str
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await build(api, alice, image="ex/img:1")
    await build(api, alice, image="ex/img:2")
    r = await api.call("GET", "/v2/apps/demo/builds/", alice)
    assert [b["image"] for b in r.json["results"]] == ["ex/img:2", "ex/img:1"]
    first = r.json["results"][1]["uuid"]
    r = await api.call("GET", f"/v2/apps/demo/builds/{first}/", alice)
    assert r.json["image"] == "ex/img:2"
