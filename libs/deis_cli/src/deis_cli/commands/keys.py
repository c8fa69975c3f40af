"""keys: the SSH public keys that may ``git push`` as the current user."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, limit_option

GROUP = CommandSet("keys", "manage ssh keys used for `git push` deployments")

KEY_TYPES = (
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


def read_key(path: Path) -> tuple[str, str]:
    """(id, public key text) of a public key file; the id is the key comment, else the file's base name."""
    try:
        text = path.expanduser().read_text().strip()
    except OSError as e:
        raise CLIError(f"{path}: {e.strerror}") from e
    parts = text.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise CLIError(f"{path} is not a valid ssh key")
    try:
        base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise CLIError(f"{path} is not a valid ssh key") from None
    key_id = parts[2] if len(parts) > 2 else path.name.split(".")[0]
    return key_id, text


def ssh_dir() -> Path:
    return Path.home() / ".ssh"


def choose_key() -> tuple[str, str, Path]:
    """The interactive picker over ~/.ssh/*.pub."""
    found: list[tuple[str, str, Path]] = []
    for path in sorted(ssh_dir().glob("*.pub")):
        try:
            key_id, public = read_key(path)
        except CLIError as e:
            output.echo(e.message)
            continue
        found.append((key_id, public, path))
    output.echo("Found the following SSH public keys:")
    for i, (key_id, _public, path) in enumerate(found, start=1):
        output.echo(f"{i}) {path.name} {key_id}")
    output.echo("0) Enter path to pubfile (or use keys:add <key_path>)")
    selected = click.prompt(
        "Which would you like to use with Deis?", default="", show_default=False, prompt_suffix=" "
    )
    try:
        number = int(selected)
    except ValueError:
        raise CLIError(f"{selected} is not a valid integer") from None
    if number < 0 or number > len(found):
        raise CLIError(f"{number} is not a valid option")
    if number == 0:
        path = Path(click.prompt("Enter the path to the pubkey file", prompt_suffix=": "))
        key_id, public = read_key(path)
        return key_id, public, path
    return found[number - 1]


@GROUP.command("list")
@limit_option
def list_keys(limit: int | None) -> None:
    """Lists SSH keys for the logged in user."""
    session = Session.current()
    found, count = session.client.keys(session.limit(limit))
    output.header(f"=== {session.profile.username} Keys{output.limit_suffix(len(found), count)}")
    rows = []
    for key in found:
        public = str(key.get("public", ""))
        rows.append([str(key["id"]), f"{public[:16]}...{public[-10:]}"])
    output.columns(rows)


@GROUP.command("add")
@click.argument("name", required=False, metavar="[<name>]")
@click.argument("key_file", required=False, metavar="[<key>]")
def add(name: str | None, key_file: str | None) -> None:
    """Adds an SSH public key for the logged in user.

    With no arguments, offers the keys found in ~/.ssh. <name> defaults to the key's comment.
    """
    session = Session.current()
    if name and not key_file and Path(name).expanduser().is_file():
        key_file, name = name, None
    if key_file:
        path = Path(key_file)
        key_id, public = read_key(path)
    else:
        key_id, public, path = choose_key()
    key_id = name or key_id
    output.echo(f"Uploading {path.name} to deis...", nl=False)
    try:
        session.client.post("/v2/keys/", {"id": key_id, "public": public})
    except CLIError:
        output.echo()
        raise
    output.echo(" done")


@GROUP.command("remove")
@click.argument("key_id", metavar="<key>")
def remove(key_id: str) -> None:
    """Removes an SSH public key by its id."""
    session = Session.current()
    output.echo(f"Removing {key_id} SSH Key...", nl=False)
    try:
        session.client.delete(f"/v2/keys/{key_id}")
    except CLIError:
        output.echo()
        raise
    output.echo(" done")
