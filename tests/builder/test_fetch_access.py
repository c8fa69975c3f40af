"""Reading an app's source over SSH (clone, fetch, ls-remote) needs the same access as pushing to it."""

from __future__ import annotations

from pathlib import Path

import pytest_asyncio
from builder_harness import Accounts, GitRepo, SshKey, app_repo, make_key, run
from conftest import RunningBuilder

REFUSED = "Access denied: bob may not fetch from alices"


@pytest_asyncio.fixture
async def alices(builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path) -> GitRepo:
    """Alice's app ``alices``, pushed once."""
    await accounts.app("alice", "alices")
    repo = await app_repo("shell", tmp_path / "alice", builder.ssh_port, alice_key)
    (repo.path / "SECRET").write_text("alice's source\n")
    await repo.commit("alice's own commit")
    code, output = await repo.push("alices")
    assert code == 0, output
    return repo


async def _user(accounts: Accounts, name: str, tmp_path: Path) -> SshKey:
    key = await make_key(tmp_path / "keys" / name)
    await accounts.user(name, key)
    return key


async def test_a_user_without_access_cannot_clone_fetch_or_ls_remote_an_app(
    builder: RunningBuilder, accounts: Accounts, alices: GitRepo, tmp_path: Path
) -> None:
    bob_key = await _user(accounts, "bob", tmp_path)
    bobs = await app_repo("shell", tmp_path / "bob", builder.ssh_port, bob_key)
    secret_head = await alices.head()
    remote = bobs.remote("alices")

    clone = tmp_path / "stolen"
    code, output = await run("git", "clone", remote, str(clone), env=bobs.env())
    assert code == 128, output
    assert REFUSED in output
    assert not (clone / "Procfile").exists()

    code, output = await bobs.git("fetch", remote, "master")
    assert code == 128, output
    assert REFUSED in output
    code, output = await bobs.git("cat-file", "-e", secret_head)
    assert code != 0, "alice's commit reached bob's repository"

    code, output = await bobs.git("ls-remote", remote)
    assert code == 128, output
    assert REFUSED in output
    assert secret_head not in output


async def test_upload_pack_for_a_user_without_access_exits_like_a_refused_push(
    builder: RunningBuilder, accounts: Accounts, alices: GitRepo, tmp_path: Path
) -> None:
    bob_key = await _user(accounts, "bob", tmp_path)
    bobs = GitRepo(path=tmp_path, ssh_port=builder.ssh_port, key=bob_key)
    ssh = bobs.env()["GIT_SSH_COMMAND"].split()
    code, output = await run(*ssh, "-p", str(builder.ssh_port), "git@127.0.0.1", "git-upload-pack 'alices'")
    assert (code, output.strip()) == (1, REFUSED)


async def test_the_owner_a_collaborator_and_an_admin_can_clone(
    builder: RunningBuilder, accounts: Accounts, alices: GitRepo, tmp_path: Path
) -> None:
    carol_key = await _user(accounts, "carol", tmp_path)
    r = await accounts.api.call(
        "POST", "/v2/apps/alices/perms/", accounts.tokens["alice"], json={"username": "carol"}
    )
    assert r.status == 201, r.text
    admin_key = await make_key(tmp_path / "keys" / "admin")
    r = await accounts.api.call(
        "POST",
        "/v2/keys/",
        accounts.tokens["admin"],
        json={"id": "admin@test", "public": admin_key.public_line},
    )
    assert r.status == 201, r.text

    for name, key in (("alice", alices.key), ("carol", carol_key), ("admin", admin_key)):
        reader = GitRepo(path=tmp_path, ssh_port=builder.ssh_port, key=key)
        clone = tmp_path / f"clone-{name}"
        code, output = await run("git", "clone", "-q", reader.remote("alices"), str(clone), env=reader.env())
        assert code == 0, f"{name}: {output}"
        assert (clone / "Procfile").read_text() == (alices.path / "Procfile").read_text()
        code, output = await run("git", "ls-remote", reader.remote("alices"), env=reader.env())
        assert code == 0 and await alices.head() in output, f"{name}: {output}"


async def test_fetching_an_app_that_does_not_exist_says_so(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path
) -> None:
    reader = GitRepo(path=tmp_path, ssh_port=builder.ssh_port, key=alice_key)
    code, output = await run("git", "ls-remote", reader.remote("nosuchapp"), env=reader.env())
    assert code == 128, output
    assert "App nosuchapp does not exist" in output
