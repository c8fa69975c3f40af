"""Registration, login, tokens, passwords, account removal, users and admin grants."""

from __future__ import annotations

from tests.controller.harness import RunningController, running_controller


async def test_the_first_user_becomes_admin_and_later_ones_do_not(api: RunningController) -> None:
    r = await api.call("POST", "/v2/auth/register/", json={"username": "first", "password": "pw"})
    assert r.status == 201 and r.json["is_superuser"] is True and "password" not in r.json
    first = await api.call("POST", "/v2/auth/login/", json={"username": "first", "password": "pw"})
    body = {"username": "second", "password": "pw"}
    r = await api.call("POST", "/v2/auth/register/", first.json["token"], json=body)
    assert r.status == 201 and r.json["is_superuser"] is False


REFUSED = (403, {"detail": "You do not have permission to perform this action."})


async def test_by_default_only_admins_register_users_once_there_is_one(api: RunningController) -> None:
    admin = await api.register("admin")
    eve = {"username": "eve", "password": "pw"}
    r = await api.call("POST", "/v2/auth/register/", json=eve)
    assert (r.status, r.json) == REFUSED
    r = await api.call("POST", "/v2/auth/register/", "0" * 40, json=eve)  # a bad token is no one
    assert (r.status, r.json) == REFUSED
    r = await api.call("POST", "/v2/auth/register/", json={})  # refused before the body is read
    assert (r.status, r.json) == REFUSED
    alice = await api.register("alice", by=admin)
    r = await api.call("POST", "/v2/auth/register/", alice, json=eve)
    assert (r.status, r.json) == REFUSED
    assert (await api.call("POST", "/v2/admin/perms/", admin, json={"username": "alice"})).status == 201
    r = await api.call("POST", "/v2/auth/register/", alice, json=eve)
    assert r.status == 201 and r.json["is_superuser"] is False
    r = await api.call("GET", "/v2/users/", admin)
    assert [u["username"] for u in r.json["results"]] == ["admin", "alice", "eve"]


async def test_open_and_closed_registration_can_be_chosen(pg_dsn: str, nats_url: str) -> None:
    async with running_controller(pg_dsn, nats_url, registration_mode="enabled") as api:
        await api.register("root")
        r = await api.call("POST", "/v2/auth/register/", json={"username": "eve", "password": "pw"})
        assert r.status == 201 and r.json["is_superuser"] is False
    async with running_controller(pg_dsn, nats_url, registration_mode="disabled") as api:
        r = await api.call("POST", "/v2/auth/register/", json={"username": "mallory", "password": "pw"})
        assert (r.status, r.json) == (403, {"detail": "Registration is disabled"})


async def test_registration_reports_field_errors(api: RunningController, admin: str) -> None:
    r = await api.call("POST", "/v2/auth/register/", admin, json={})
    assert r.json == {"username": ["This field is required."], "password": ["This field is required."]}
    r = await api.call("POST", "/v2/auth/register/", admin, json={"username": "admin", "password": "x"})
    assert r.json == {"username": ["A user with that username already exists."]}
    r = await api.call(
        "POST", "/v2/auth/register/", admin, json={"username": "x", "password": "x", "email": "nope"}
    )
    assert r.json == {"email": ["Enter a valid email address."]}
    r = await api.call("POST", "/v2/auth/register/", admin, json={"username": "bad name", "password": "x"})
    assert r.status == 400 and "username" in r.json


async def test_login_returns_the_token_and_refuses_bad_credentials(
    api: RunningController, admin: str
) -> None:
    r = await api.call("POST", "/v2/auth/login/", json={"username": "admin", "password": "wrong"})
    assert (r.status, r.json) == (400, {"non_field_errors": ["Unable to log in with provided credentials."]})
    r = await api.call("GET", "/v2/auth/whoami/", admin)
    assert r.json["username"] == "admin"
    r = await api.call("GET", "/v2/auth/whoami/", "0" * 40)
    assert (r.status, r.json) == (401, {"detail": "Invalid token."})


async def test_a_regenerated_token_replaces_the_old_one(api: RunningController, alice: str) -> None:
    r = await api.call("POST", "/v2/auth/tokens/", alice, json={})
    new = r.json["token"]
    assert len(new) == 40 and new != alice
    assert (await api.call("GET", "/v2/auth/whoami/", alice)).status == 401
    assert (await api.call("GET", "/v2/auth/whoami/", new)).status == 200
    r = await api.call("POST", "/v2/auth/tokens/", new, json={"all": True})
    assert r.status == 403


async def test_passwd_checks_the_current_password(api: RunningController, alice: str, admin: str) -> None:
    r = await api.call("POST", "/v2/auth/passwd/", alice, json={})
    assert r.json == {"detail": "new_password is a required field"}
    r = await api.call("POST", "/v2/auth/passwd/", alice, json={"new_password": "n"})
    assert r.json == {"detail": "password is a required field"}
    r = await api.call("POST", "/v2/auth/passwd/", alice, json={"new_password": "n", "password": "bad"})
    assert (r.status, r.json) == (401, {"detail": "Current password does not match"})
    r = await api.call(
        "POST", "/v2/auth/passwd/", alice, json={"new_password": "n", "password": "s3cret-pass"}
    )
    assert (r.status, r.json) == (200, {"status": "password set"})
    r = await api.call("POST", "/v2/auth/passwd/", alice, json={"new_password": "m", "username": "admin"})
    assert r.status == 403
    r = await api.call("POST", "/v2/auth/passwd/", admin, json={"new_password": "m", "username": "alice"})
    assert r.status == 200
    r = await api.call("POST", "/v2/auth/login/", json={"username": "alice", "password": "m"})
    assert r.status == 200


async def test_cancel_refuses_while_the_user_owns_apps(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("DELETE", "/v2/auth/cancel/", alice)
    assert r.status == 409
    assert r.json == {"detail": "alice still has applications assigned. Delete or transfer ownership"}
    assert (await api.call("DELETE", "/v2/apps/demo/", alice)).status == 204
    assert (await api.call("DELETE", "/v2/auth/cancel/", alice)).status == 204
    assert (await api.call("GET", "/v2/auth/whoami/", alice)).status == 401


async def test_admins_list_users_and_grant_admin(api: RunningController, admin: str, alice: str) -> None:
    r = await api.call("GET", "/v2/users/", admin)
    assert [u["username"] for u in r.json["results"]] == ["admin", "alice"]
    assert (await api.call("GET", "/v2/users/", alice)).status == 403
    assert (await api.call("POST", "/v2/admin/perms/", admin, json={"username": "alice"})).status == 201
    r = await api.call("GET", "/v2/admin/perms/", alice)
    assert [u["username"] for u in r.json["results"]] == ["admin", "alice"]
    assert (await api.call("DELETE", "/v2/admin/perms/alice", admin)).status == 204
    assert (await api.call("GET", "/v2/admin/perms/", alice)).status == 403
    r = await api.call("POST", "/v2/admin/perms/", admin, json={"username": "ghost"})
    assert (r.status, r.json) == (404, "No User matches the given query.")
