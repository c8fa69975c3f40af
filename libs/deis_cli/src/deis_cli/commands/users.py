"""users: every account on the platform (administrators only)."""

from __future__ import annotations

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.session import Session, limit_option

GROUP = CommandSet("users", "manage users")


@GROUP.command("list")
@limit_option
def list_users(limit: int | None) -> None:
    """Lists all registered users; administrators are marked with '*'. Requires admin privileges."""
    session = Session.current()
    found, count = session.client.users(session.limit(limit))
    output.header(f"=== Users (*=admin){output.limit_suffix(len(found), count)}")
    for user in found:
        mark = "*" if user.get("is_superuser") else " "
        output.echo(f"{mark} {user.get('username')}")
