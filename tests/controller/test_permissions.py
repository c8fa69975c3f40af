"""The permission matrix: what owner, collaborator, admin, stranger and anonymous callers may do."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.controller.harness import RunningController


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: dict[str, object] | None
    owner: int
    collaborator: int
    admin: int
    stranger: int = 403
    anonymous: int = 401


CASES = [
    Case("GET", "/v2/apps/demo/", None, 200, 200, 200),
    Case("GET", "/v2/apps/demo/config/", None, 200, 200, 200),
    Case("POST", "/v2/apps/demo/config/", {"values": {"K": "{who}"}}, 201, 201, 201),
    Case("GET", "/v2/apps/demo/releases/", None, 200, 200, 200),
    Case("GET", "/v2/apps/demo/builds/", None, 200, 200, 200),
    Case("GET", "/v2/apps/demo/domains/", None, 200, 200, 200),
    Case("POST", "/v2/apps/demo/domains/", {"domain": "{who}.example.com"}, 201, 201, 201),
    Case("DELETE", "/v2/apps/demo/domains/{who}-gone.example.com", None, 204, 403, 204),
    Case("GET", "/v2/apps/demo/settings/", None, 200, 200, 200),
    Case("GET", "/v2/apps/demo/perms/", None, 200, 200, 200),
    Case("POST", "/v2/apps/demo/perms/", {"username": "carol"}, 201, 403, 201),
    Case("GET", "/v2/apps/demo/pods/", None, 200, 200, 200),
    Case("DELETE", "/v2/apps/demo/", None, 204, 403, 204),
]


def fill(value: object, who: str) -> object:
    """``value`` with ``{who}`` in its strings replaced by the role's name."""
    if isinstance(value, str):
        return value.format(who=who)
    if isinstance(value, dict):
        return {k: fill(v, who) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.path}" for c in CASES])
async def test_each_role_gets_what_the_contract_allows(
    api: RunningController, admin: str, alice: str, bob: str, case: Case
) -> None:
    stranger = await api.register("eve", by=admin)
    await api.register("carol", by=admin)
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await api.call("POST", "/v2/apps/demo/perms/", alice, json={"username": "bob"})
    roles = {"stranger": stranger, "anonymous": None, "collaborator": bob, "admin": admin, "owner": alice}
    for role, token in roles.items():
        if case.method == "DELETE" and "domains" in case.path:
            domain = case.path.rsplit("/", 1)[1].format(who=role)
            await api.call("POST", "/v2/apps/demo/domains/", alice, json={"domain": domain})
        path = case.path.format(who=role)
        body = fill(case.body, role)
        r = await api.call(case.method, path, token, json=body)
        assert r.status == getattr(case, role), (role, r.status, r.text)
        if r.status == 204 and path == "/v2/apps/demo/":
            await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
            await api.call("POST", "/v2/apps/demo/perms/", alice, json={"username": "bob"})


async def test_a_collaborator_may_remove_themself_but_not_others(
    api: RunningController, admin: str, alice: str, bob: str
) -> None:
    await api.register("carol", by=admin)
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await api.call("POST", "/v2/apps/demo/perms/", alice, json={"username": "bob"})
    await api.call("POST", "/v2/apps/demo/perms/", alice, json={"username": "carol"})
    assert (await api.call("DELETE", "/v2/apps/demo/perms/carol", bob)).status == 403
    assert (await api.call("DELETE", "/v2/apps/demo/perms/bob", bob)).status == 204
    assert (await api.call("DELETE", "/v2/apps/demo/perms/bob", alice)).status == 403
    r = await api.call("GET", "/v2/apps/demo/perms/", alice)
    assert r.json == {"users": ["carol"]}
