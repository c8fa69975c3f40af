"""The SSH front door: only git (and ping) for known keys, host keys that stay, fetches that work."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from builder_harness import Accounts, SshKey, app_repo, make_key, run
from conftest import RunningBuilder

from deis_builder.push.ssh import md5_fingerprint
from deis_builder.push.ssh.hostkeys import load_host_keys


def _ssh(key: SshKey, port: int, *command: str) -> list[str]:
    return [
        "ssh",
        "-i",
        str(key.private),
        "-p",
        str(port),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        "git@127.0.0.1",
        *command,
    ]


async def test_ping_answers_pong(builder: RunningBuilder, accounts: Accounts, alice_key: SshKey) -> None:
    code, output = await run(*_ssh(alice_key, builder.ssh_port, "ping"))
    assert (code, output.strip()) == (0, "pong")


async def test_commands_other_than_git_are_refused(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey
) -> None:
    code, output = await run(*_ssh(alice_key, builder.ssh_port, "cat", "/etc/passwd"))
    assert code != 0
    assert "Only git-receive-pack and git-upload-pack are allowed" in output
    assert "root:" not in output
    code, output = await run(*_ssh(alice_key, builder.ssh_port, "git-receive-pack '../../etc.git'"))
    assert code != 0 and "invalid repository name" in output


async def test_a_pushed_app_can_be_cloned_back(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path
) -> None:
    await accounts.app("alice", "clonable")
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("clonable")
    assert code == 0, output
    clone = tmp_path / "clone"
    code, output = await run("git", "clone", "-q", repo.remote("clonable"), str(clone), env=repo.env())
    assert code == 0, output
    assert (clone / "Procfile").read_text() == (repo.path / "Procfile").read_text()


async def test_the_key_fingerprint_is_the_md5_of_the_key_blob(tmp_path: Path) -> None:
    key = await make_key(tmp_path)
    code, listed = await run("ssh-keygen", "-l", "-E", "md5", "-f", str(key.private.with_suffix(".pub")))
    assert code == 0, listed
    blob = base64.b64decode(key.public_line.split()[1])
    assert f"MD5:{md5_fingerprint(blob)}" in listed
    assert md5_fingerprint(blob) == key.fingerprint


async def test_host_keys_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = await asyncio.to_thread(load_host_keys, tmp_path / "keys")
    again = await asyncio.to_thread(load_host_keys, tmp_path / "keys")
    assert [k.get_algorithm() for k in first] == ["ssh-rsa", "ecdsa-sha2-nistp256"]
    assert [k.public_data for k in first] == [k.public_data for k in again]
    assert oct((tmp_path / "keys" / "ssh_host_rsa_key").stat().st_mode & 0o777) == "0o600"


async def test_a_push_that_bypasses_ssh_is_refused_by_the_hook(
    builder: RunningBuilder, accounts: Accounts, alice_key: SshKey, tmp_path: Path
) -> None:
    await accounts.app("alice", "guarded")
    repo = await app_repo("shell", tmp_path / "work", builder.ssh_port, alice_key)
    code, output = await repo.push("guarded")
    assert code == 0, output
    await repo.commit("sneak in")
    bare = builder.settings.builder.data_dir / "repos" / "guarded.git"
    code, output = await repo.git("push", f"file://{bare}", "HEAD:refs/heads/master")
    assert code == 1, output
    assert "This repository only accepts pushes through the builder." in output
    forged = {
        **repo.env(),
        "DEIS_BUILDER_HOOK_SOCKET": str(builder.service_hook_socket),
        "DEIS_PUSH_TOKEN": "guess",
    }
    code, output = await run(
        "git", "push", f"file://{bare}", "HEAD:refs/heads/master", cwd=repo.path, env=forged
    )
    assert code == 1, output
    assert "This push did not come through the builder's SSH server." in output
