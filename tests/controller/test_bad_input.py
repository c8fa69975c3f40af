"""Input the original API crashed on gets a 400 with a reason here."""

from __future__ import annotations

from tests.controller.harness import RunningController


async def test_malformed_bodies_get_clear_400s(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    async with api.session.post(
        api.url + "/v2/apps/demo/config/", data=b"{oops", headers={"Authorization": f"token {alice}"}
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["detail"].startswith("JSON parse error")
    cases = [
        ("POST", "/v2/apps/demo/config/", ["a", "list"], {"detail": "Invalid data. Expected a JSON object."}),
        ("POST", "/v2/apps/", {"id": 5}, {"id": ["Not a valid string."]}),
        ("POST", "/v2/apps/demo/config/", {"values": [1]}, {"values": ["values must be a JSON object"]}),
        (
            "POST",
            "/v2/apps/demo/config/",
            {"tags": {"a/b/c": "x"}},
            {"tags": ["Tag keys may contain at most one '/'."]},
        ),
        ("POST", "/v2/apps/demo/releases/rollback/", {"version": "two"}, None),
        ("POST", "/v2/apps/demo/run/", {"command": ["ls"]}, {"detail": "command is a required field"}),
        ("POST", "/v2/apps/demo/builds/", {"image": "x", "procfile": ["web"]}, None),
        (
            "POST",
            "/v2/certs/",
            {"name": "x"},
            {"certificate": ["This field is required."], "key": ["This field is required."]},
        ),
    ]
    for method, path, body, expected in cases:
        r = await api.call(method, path, alice, json=body)
        assert r.status == 400, (path, body, r.text)
        if expected is not None:
            assert r.json == expected, (path, body)
    r = await api.call("GET", "/v2/apps/demo/logs/?log_lines=many", alice)
    assert (r.status, r.json) == (400, {"log_lines": ["A valid integer is required."]})
