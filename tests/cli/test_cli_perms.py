"""perms (collaborators and administrators) and users, through the installed `deis` and a real controller."""

from __future__ import annotations

from conftest import register


async def test_collaborators_can_be_granted_and_revoked(controller, deis, admin) -> None:
    bob = await register(deis, controller, "bob")
    assert (await deis("create", "shared", "--no-remote")).ok
    assert (await deis("perms", "-a", "shared")).stdout == "=== shared's Users\n"
    assert (await deis("apps", env=bob)).stdout == "=== Apps\n"

    granted = await deis("sharing:add", "bob", "-a", "shared")
    assert granted.stdout == "Adding bob to shared collaborators... done\n", granted
    assert (await deis("sharing", "-a", "shared")).stdout == "=== shared's Users\nbob\n"
    assert (await deis("apps", env=bob)).stdout == "=== Apps\nshared\n"
    no_delete = await deis("destroy", "-a", "shared", "--confirm=shared", env=bob)
    assert no_delete.returncode == 1
    assert "You do not have permission to perform this action." in no_delete.stderr

    revoked = await deis("perms:delete", "bob", "-a", "shared")
    assert revoked.stdout == "Removing bob from shared collaborators... done\n"
    denied = await deis("info", "-a", "shared", env=bob)
    assert denied.returncode == 1
    assert denied.stderr == "Error: You do not have permission to perform this action.\n"

    nobody = await deis("perms:create", "nobody", "-a", "shared")
    assert nobody.returncode == 1 and "404 Not Found" in nobody.stderr


async def test_administrators_and_the_user_list(controller, deis, admin) -> None:
    carol = await register(deis, controller, "carol")
    assert (await deis("perms:list", "--admin")).stdout == "=== Administrators\nadmin\n"
    assert (await deis("users")).stdout == "=== Users (*=admin)\n* admin\n  carol\n"
    refused = await deis("users:list", env=carol)
    assert refused.returncode == 1
    assert refused.stderr == "Error: You do not have permission to perform this action.\n"

    promoted = await deis("perms:create", "carol", "--admin")
    assert promoted.stdout == "Adding carol to system administrators... done\n"
    assert (await deis("users", env=carol)).stdout == "=== Users (*=admin)\n* admin\n* carol\n"
    demoted = await deis("perms:delete", "carol", "--admin")
    assert demoted.stdout == "Removing carol from system administrators... done\n"
    both = await deis("perms:list", "--admin", "-a", "x")
    assert both.returncode == 1 and both.stderr == "Error: Give either --app or --admin, not both\n"
