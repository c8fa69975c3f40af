"""keys, including the ~/.ssh picker, driven through the installed `deis` against a real controller."""

from __future__ import annotations

import subprocess
from pathlib import Path


def keygen(path: Path, comment: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)], check=True
    )
    return path.with_suffix(".pub").read_text().strip()


async def test_keys_add_list_and_remove(deis, admin, workspace) -> None:
    public = keygen(workspace.cwd / "deploy_key", "deploy@laptop")
    added = await deis("keys:add", str(workspace.cwd / "deploy_key.pub"))
    assert added.stdout == "Uploading deploy_key.pub to deis... done\n", added
    listed = await deis("keys")
    assert listed.stdout == f"=== admin Keys\ndeploy@laptop {public[:16]}...{public[-10:]}\n"

    again = await deis("keys:add", "another-name", str(workspace.cwd / "deploy_key.pub"))
    assert again.returncode == 1
    assert "Public Key is already in use" in again.stderr

    removed = await deis("keys:remove", "deploy@laptop")
    assert removed.stdout == "Removing deploy@laptop SSH Key... done\n"
    gone = await deis("keys:remove", "deploy@laptop")
    assert gone.returncode == 1 and "404 Not Found" in gone.stderr


async def test_keys_add_offers_the_keys_in_dot_ssh(deis, admin, workspace) -> None:
    keygen(workspace.home / ".ssh" / "id_ed25519", "me@home")
    keygen(workspace.home / ".ssh" / "work", "me@work")
    result = await deis("keys:add", input="2\n")
    assert result.ok, result
    assert (
        "Found the following SSH public keys:\n1) id_ed25519.pub me@home\n2) work.pub me@work\n"
        in result.stdout
    )
    assert result.stdout.endswith("Uploading work.pub to deis... done\n")
    assert "me@work" in (await deis("keys:list")).stdout

    invalid = await deis("keys:add", input="7\n")
    assert invalid.returncode == 1
    assert invalid.stderr == "Error: 7 is not a valid option\n"


async def test_a_file_that_is_not_a_public_key_is_refused(deis, admin, workspace) -> None:
    bogus = workspace.cwd / "bogus.pub"
    bogus.write_text("hello world\n")
    result = await deis("keys:add", str(bogus))
    assert result.returncode == 1
    assert result.stderr == f"Error: {bogus} is not a valid ssh key\n"
