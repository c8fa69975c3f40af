"""SSH keys and the builder hooks that authenticate and authorize a git push."""

from __future__ import annotations

import base64
import hashlib

from tests.controller.harness import RunningController

BLOB = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00 " + bytes(range(32))
PUBLIC = "ssh-ed25519 " + base64.b64encode(BLOB).decode() + " alice@laptop"
FINGERPRINT = ":".join(f"{b:02x}" for b in hashlib.md5(BLOB).digest())


async def test_keys_get_an_md5_fingerprint_and_are_private_to_their_owner(
    api: RunningController, alice: str, bob: str
) -> None:
    r = await api.call("POST", "/v2/keys/", alice, json={"id": "alice@laptop", "public": PUBLIC})
    assert r.status == 201, r.text
    assert r.json["fingerprint"] == FINGERPRINT
    r = await api.call("GET", "/v2/keys/", alice)
    assert r.json["count"] == 1
    assert (await api.call("GET", "/v2/keys/alice@laptop", bob)).status == 404
    r = await api.call("POST", "/v2/keys/", bob, json={"id": "bob", "public": PUBLIC})
    assert r.json == {"public": ["Public Key is already in use"]}
    r = await api.call("POST", "/v2/keys/", bob, json={"id": "alice@laptop", "public": "ssh-rsa AAAA"})
    assert r.json == {"id": ["SSH Key with this id already exists."]}
    r = await api.call("POST", "/v2/keys/", bob, json={"id": "b2", "public": "ssh-rsa not*base64"})
    assert r.json == {"public": ["Key contains invalid base64 chars"]}
    assert (await api.call("DELETE", "/v2/keys/alice@laptop", alice)).status == 204
    assert (await api.call("DELETE", "/v2/keys/alice@laptop", alice)).status == 404


async def test_the_builder_finds_a_key_owner_and_may_fetch_config(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/keys/", alice, json={"id": "alice@laptop", "public": PUBLIC})
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await api.call("POST", "/v2/apps/demo/config/", alice, json={"values": {"A": "1"}})
    r = await api.hook("GET", f"/v2/hooks/key/{FINGERPRINT}")
    assert r.json == {"username": "alice", "apps": ["demo"]}
    r = await api.hook("POST", "/v2/hooks/config/", json={"receive_user": "alice", "receive_repo": "demo"})
    assert r.status == 200 and r.json["values"] == {"A": "1"}
    r = await api.hook("POST", "/v2/hooks/config/", json={"receive_user": "alice", "receive_repo": "nope"})
    assert (r.status, r.json) == (404, "No App matches the given query.")
    assert (await api.hook("GET", "/v2/hooks/key/00:11")).status == 404


async def test_hooks_need_the_builder_key(api: RunningController, alice: str, bob: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    assert (await api.call("GET", f"/v2/hooks/key/{FINGERPRINT}")).status == 401
    assert (await api.call("GET", f"/v2/hooks/key/{FINGERPRINT}", alice)).status == 403
    r = await api.call("GET", "/v2/hooks/key/x", headers={"X-Deis-Builder-Auth": "wrong"})
    assert r.status == 401
    r = await api.hook("POST", "/v2/hooks/config/", json={"receive_user": "bob", "receive_repo": "demo"})
    assert r.status == 403


async def test_the_build_hook_releases_an_image(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    body = {"receive_user": "alice", "receive_repo": "demo", "image": "ex/img:1", "sha": "abcdef1234"}
    r = await api.hook("POST", "/v2/hooks/build/", json=body)
    assert (r.status, r.json) == (200, {"release": {"version": 2}})
    r = await api.call("GET", "/v2/apps/demo/releases/v2/", alice)
    assert r.json["summary"] == "alice deployed abcdef1"


async def test_app_keys_lists_collaborator_keys(api: RunningController, alice: str, bob: str) -> None:
    await api.call("POST", "/v2/keys/", bob, json={"id": "bob", "public": PUBLIC})
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    assert (await api.hook("GET", "/v2/hooks/keys/demo")).json == {}
    await api.call("POST", "/v2/apps/demo/perms/", alice, json={"username": "bob"})
    r = await api.hook("GET", "/v2/hooks/keys/demo")
    assert r.json == {"bob": [{"key": PUBLIC, "fingerprint": FINGERPRINT}]}
    r = await api.hook("GET", "/v2/hooks/keys/demo/alice")
    assert (r.status, r.json) == (404, {"detail": "No Keys match the given query."})


async def test_hooks_refuse_users_who_are_not_on_the_app(
    api: RunningController, alice: str, bob: str
) -> None:
    await api.call("POST", "/v2/keys/", bob, json={"id": "bob", "public": PUBLIC})
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.hook("GET", "/v2/hooks/keys/demo/bob")
    assert r.status == 403
    body = {"receive_user": "bob", "receive_repo": "demo", "image": "ex/img"}
    assert (await api.hook("POST", "/v2/hooks/build/", json=body)).status == 403
    body["receive_user"] = "ghost"
    r = await api.hook("POST", "/v2/hooks/build/", json=body)
    assert (r.status, r.json) == (404, "No User matches the given query.")
