"""Config: merging, unsetting, the "changed nothing" rule, validation and release summaries."""

from __future__ import annotations

import json

from tests.controller.harness import RunningController


async def make_app(api: RunningController, token: str) -> None:
    r = await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
    assert r.status == 201


async def summaries(api: RunningController, token: str) -> list[str]:
    r = await api.call("GET", "/v2/apps/demo/releases/", token)
    return [x["summary"] for x in r.json["results"]]


async def test_config_merges_and_null_unsets(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": "1", "B": "2"}})
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": None, "C": 3}})
    assert r.status == 201 and r.json["values"] == {"B": "2", "C": "3"}
    r = await api.call("GET", "/v2/apps/demo/config/", alice)
    assert r.json["values"] == {"B": "2", "C": "3"}
    assert (await summaries(api, alice))[:2] == ["alice added C, deleted A", "alice added A, B"]


async def test_a_change_that_changes_nothing_is_refused(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": "1"}})
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": "1"}})
    assert (r.status, r.json) == (409, {"detail": "alice changed nothing - release stopped"})


async def test_unsetting_a_missing_key_is_unprocessable(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"NOPE": None}})
    assert (r.status, r.json) == (422, {"detail": "NOPE does not exist under values"})


async def test_sections_may_be_sent_as_json_strings(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    body = {"memory": json.dumps({"web": "512M"}), "cpu": json.dumps({"web": "500m"})}
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
    assert r.status == 201, r.text
    assert r.json["memory"] == {"web": "512M"} and r.json["cpu"] == {"web": "500m"}
    assert (await summaries(api, alice))[0] == "alice changed limits for memory, cpu"
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": "{not json"})
    assert r.status == 400 and "values" in r.json


async def test_config_validation_messages(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    cases = [
        (
            {"values": {"1BAD": "x"}},
            {"values": ["Config keys must start with a letter or underscore and only contain [A-z0-9_]"]},
        ),
        ({"values": {"PORT": "http"}}, {"values": ["PORT can only be a numeric value"]}),
        ({"values": {"PORT": "70000"}}, {"values": ["PORT needs to be between 1 and 65535"]}),
        ({"memory": {"web": "20MK"}}, None),
        (
            {"memory": {"Web": "1G"}},
            {"memory": ["Process types can only contain lowercase alphanumeric characters"]},
        ),
        (
            {"cpu": {"web": "1G"}},
            {"cpu": ["CPU limit format: <value> or <value>/<value>, where value must be a numeric"]},
        ),
        ({"tags": {"bad key!": "x"}}, None),
        ({"healthcheck": {"web": {"startupProbe": {}}}}, None),
    ]
    for body, expected in cases:
        r = await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
        assert r.status == 400, body
        if expected is not None:
            assert r.json == expected, body


async def test_legacy_healthcheck_values_become_probes(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    body = {"values": {"HEALTHCHECK_URL": "/health", "HEALTHCHECK_TIMEOUT": "5"}}
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
    assert r.status == 201, r.text
    assert r.json["values"] == {}
    probe = r.json["healthcheck"]["web/cmd"]["livenessProbe"]
    assert probe["httpGet"] == {"path": "/health"} and probe["timeoutSeconds"] == 5


async def test_healthchecks_merge_per_probe(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    liveness = {"tcpSocket": {"port": 5000}}
    readiness = {"httpGet": {"port": 5000, "path": "/"}}
    body = {"healthcheck": {"web": {"livenessProbe": liveness, "readinessProbe": readiness}}}
    await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
    r = await api.call(
        "POST", "/v2/apps/demo/config/", alice, json={"healthcheck": {"web": {"livenessProbe": None}}}
    )
    assert r.json["healthcheck"] == {"web": {"readinessProbe": readiness}}


async def test_unsetting_a_health_check_that_is_not_set_is_unprocessable_and_saves_nothing(
    api: RunningController, alice: str
) -> None:
    await make_app(api, alice)
    readiness = {"httpGet": {"port": 5000, "path": "/"}}
    body = {"healthcheck": {"web": {"readinessProbe": readiness}}}
    assert (await api.call("POST", "/v2/apps/demo/config/", alice, json=body)).status == 201
    before = (await api.call("GET", "/v2/apps/demo/config/", alice)).json
    releases = await summaries(api, alice)
    cases = [
        # the original CLI's `healthchecks:unset liveness` (default --type web/cmd)
        ({"web/cmd": {"livenessProbe": None}}, "web/cmd does not exist under healthcheck"),
        # a probe the type does not have, and a type with no health checks at all
        ({"web": {"livenessProbe": None}}, "web does not exist under healthcheck"),
        ({"worker": {"readinessProbe": None}}, "worker does not exist under healthcheck"),
        ({"worker": None}, "worker does not exist under healthcheck"),
        # older CLIs unset top-level probes, which mean web/cmd
        ({"livenessProbe": None}, "web/cmd does not exist under healthcheck"),
    ]
    for healthcheck, detail in cases:
        body = {"values": {"SEEN": "1"}, "healthcheck": healthcheck}
        r = await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
        assert (r.status, r.json) == (422, {"detail": detail}), healthcheck
    assert (await api.call("GET", "/v2/apps/demo/config/", alice)).json == before
    assert await summaries(api, alice) == releases


async def test_older_clis_unset_web_cmd_probes_at_the_top_level(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    probe = {"tcpSocket": {"port": 5000}}
    body = {"healthcheck": {"web/cmd": {"livenessProbe": probe, "readinessProbe": probe}}}
    assert (await api.call("POST", "/v2/apps/demo/config/", alice, json=body)).status == 201
    body = {"healthcheck": {"livenessProbe": None}}
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
    assert r.status == 201, r.text
    assert r.json["healthcheck"] == {"web/cmd": {"readinessProbe": probe}}
    body = {"healthcheck": {"livenessProbe": probe}}
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
    assert (r.status, r.json) == (
        400,
        {"healthcheck": ["Healthcheck keys must be either livenessProbe or readinessProbe"]},
    )


async def test_a_private_registry_needs_a_port(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    body = {"registry": {"USERNAME": "u", "PASSWORD": "p"}}
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
    assert r.json == {"detail": "PORT needs to be set in the config when using a private registry"}
    await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"PORT": "5000"}})
    r = await api.call("POST", "/v2/apps/demo/config/", alice, json=body)
    assert r.status == 201 and r.json["registry"] == {"username": "u", "password": "p"}


async def test_rollback_rules(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    r = await api.call("POST", "/v2/apps/demo/releases/rollback/", alice, json={})
    assert r.json == {"detail": "version cannot be below 0"}
    r = await api.call("POST", "/v2/apps/demo/releases/rollback/", alice, json={"version": "1"})
    assert r.json == {"detail": "Cannot roll back to initial release."}
    await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": "1"}})
    await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": "2"}})
    r = await api.call("POST", "/v2/apps/demo/releases/rollback/", alice, json={"version": 2})
    assert (r.status, r.json) == (201, {"version": 4})
    r = await api.call("GET", "/v2/apps/demo/config/", alice)
    assert r.json["values"] == {"A": "1"}
    assert (await summaries(api, alice))[0] == "alice rolled back to v2"
    for version, message in (
        (0, "version cannot be below 0"),
        (99, "Release matching query does not exist."),
    ):
        r = await api.call("POST", "/v2/apps/demo/releases/rollback/", alice, json={"version": version})
        assert r.json == {"detail": message}
    r = await api.call("GET", "/v2/apps/demo/releases/v99/", alice)
    assert (r.status, r.json) == (404, "No Release matches the given query.")


async def test_procfile_rules_on_builds(api: RunningController, alice: str) -> None:
    await make_app(api, alice)
    r = await api.call(
        "POST", "/v2/apps/demo/builds/", alice, json={"image": "x", "procfile": {"worker_test": "x"}}
    )
    assert r.json == {"procfile": ["Process types can only contain lowercase alphanumeric characters"]}
    r = await api.call("POST", "/v2/apps/demo/builds/", alice, json={"image": "x", "procfile": {"web": " "}})
    assert r.json == {"procfile": ["Command can't be empty for process type web"]}
    r = await api.call("POST", "/v2/apps/demo/builds/", alice, json={})
    assert r.json == {"image": ["This field is required."]}


def test_the_desired_state_carries_the_private_registry_credentials_for_the_scheduler() -> None:
    import uuid
    from datetime import UTC, datetime

    from deis_controller.domain.state import compose_state
    from deis_controller.records import Config, Release, ReleaseKind

    now, app_uuid = datetime.now(UTC), uuid.uuid4()
    config = Config(
        uuid=uuid.uuid4(),
        app_uuid=app_uuid,
        owner="alice",
        values={"PORT": "5000"},
        memory={},
        cpu={},
        tags={},
        registry={"username": "u", "password": "p"},
        healthcheck={},
        created=now,
        updated=now,
    )
    release = Release(
        uuid=uuid.uuid4(),
        app_uuid=app_uuid,
        owner="alice",
        version=2,
        summary="alice added registry info",
        kind=ReleaseKind.CONFIG,
        failed=False,
        deployed=False,
        generation=2,
        config_uuid=config.uuid,
        build_uuid=None,
        created=now,
        updated=now,
    )

    state = compose_state("demo", {"cmd": 1}, 2, release, config, None, None)

    assert state.registry == {"username": "u", "password": "p"}
    assert state.redacted().registry == {"username": "[redacted]", "password": "[redacted]"}
