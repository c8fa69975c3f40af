"""auth and profiles, driven through the installed `deis` against a real controller."""

from __future__ import annotations

import json
import stat

from conftest import PASSWORD, register


async def test_register_logs_in_and_writes_a_private_profile(controller, deis, workspace) -> None:
    result = await deis(
        "register", controller.url, "--username=admin", f"--password={PASSWORD}", "--email=admin@example.com"
    )
    assert result.ok, result
    profile = workspace.profile_dir / "client.json"
    assert result.stdout.splitlines() == [
        "Registered admin",
        "Logged in as admin",
        f"Configuration file written to {profile}",
    ]
    assert stat.S_IMODE(profile.stat().st_mode) == 0o600
    assert stat.S_IMODE(workspace.profile_dir.stat().st_mode) == 0o700
    saved = json.loads(profile.read_text())
    assert saved["username"] == "admin" and saved["controller"] == controller.url
    assert len(saved["token"]) >= 20 and saved["response_limit"] == 100 and saved["ssl_verify"] is True

    whoami = await deis("whoami")
    assert whoami.stdout == f"You are admin at {controller.url}\n"
    full = await deis("auth:whoami", "--all")
    assert "Username: admin" in full.stdout and "Is Superuser: True" in full.stdout


async def test_a_refused_registration_says_why(controller, deis, admin) -> None:
    again = await deis(
        "register", controller.url, "--username=admin", f"--password={PASSWORD}", "--email=a@b.c"
    )
    assert again.returncode == 1
    assert again.stderr.startswith("Registration failed: Error:")
    assert "already exists" in again.stderr


async def test_login_with_a_wrong_password_fails_without_touching_the_profile(
    controller, deis, admin, workspace
) -> None:
    before = (workspace.profile_dir / "client.json").read_text()
    result = await deis("login", controller.url, "--username=admin", "--password=wrong")
    assert result.returncode == 1
    assert "Error: " in result.stderr and "Unable to log in with provided credentials." in result.stderr
    assert (workspace.profile_dir / "client.json").read_text() == before


async def test_login_refuses_something_that_is_not_a_controller(deis) -> None:
    result = await deis("login", "http://127.0.0.1:9", "--username=a", "--password=b")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: Could not reach the controller at http://127.0.0.1:9")


async def test_named_profiles_keep_two_users_apart(controller, deis, admin, workspace) -> None:
    await register(deis, controller, "alice")
    assert (workspace.profile_dir / "alice.json").exists()
    assert (await deis("whoami", env={"DEIS_PROFILE": "alice"})).stdout.startswith("You are alice at")
    assert (await deis("-c", "alice", "whoami")).stdout.startswith("You are alice at")
    path = str(workspace.profile_dir / "alice.json")
    assert (await deis("--config", path, "whoami")).stdout.startswith("You are alice at")
    assert (await deis("whoami")).stdout.startswith("You are admin at")


async def test_commands_without_a_profile_say_how_to_log_in(deis, workspace) -> None:
    result = await deis("apps:list")
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: Client configuration file not found at: {workspace.profile_dir / 'client.json'}\n"
        "Are you logged in? Use 'deis login' or 'deis register' to get started.\n"
    )


async def test_logout_deletes_the_profile(deis, admin, workspace) -> None:
    result = await deis("logout")
    assert result.stdout == "Logged out\n"
    assert not (workspace.profile_dir / "client.json").exists()
    assert (await deis("whoami")).returncode == 1


async def test_passwd_changes_the_password(controller, deis, admin) -> None:
    carol = await register(deis, controller, "carol")
    wrong = await deis("passwd", "--password=nope", "--new-password=another-pass", env=carol)
    assert wrong.returncode == 1
    assert wrong.stderr == "Password change failed: Error: Current password does not match\n"
    result = await deis("passwd", f"--password={PASSWORD}", "--new-password=another-pass", env=carol)
    assert result.stdout == "Password change succeeded.\n", result
    assert (await deis("login", controller.url, "--username=carol", "--password=another-pass", env=carol)).ok
    old = await deis("login", controller.url, "--username=carol", f"--password={PASSWORD}", env=carol)
    assert old.returncode == 1


async def test_regenerate_replaces_the_saved_token(deis, admin, workspace) -> None:
    profile = workspace.profile_dir / "client.json"
    old = json.loads(profile.read_text())["token"]
    result = await deis("auth:regenerate")
    assert result.stdout == "Token Regenerated\n", result
    assert json.loads(profile.read_text())["token"] != old
    assert (await deis("apps:list")).ok


async def test_a_revoked_token_is_reported(deis, admin, workspace) -> None:
    profile = workspace.profile_dir / "client.json"
    data = json.loads(profile.read_text())
    data["token"] = "0" * 40
    profile.write_text(json.dumps(data))
    result = await deis("apps:list")
    assert result.returncode == 1
    assert result.stderr == "Error: Invalid token.\n"


async def test_cancel_removes_the_account_and_logs_out(controller, deis, admin, workspace) -> None:
    bob = await register(deis, controller, "bob")
    assert (await deis("create", "bobs-app", "--no-remote", env=bob)).ok
    owner = await deis("auth:cancel", "--yes", env=bob)
    assert owner.returncode == 1
    assert "still has applications" in owner.stderr
    assert (await deis("destroy", "-a", "bobs-app", "--confirm=bobs-app", env=bob)).ok
    declined = await deis("auth:cancel", env=bob, input="n\n")
    assert "Account not changed" in declined.stderr
    result = await deis("auth:cancel", "--yes", env=bob)
    assert result.stdout == "Account cancelled\n", result
    assert not (workspace.profile_dir / "bob.json").exists()
    relogin = await deis("login", controller.url, "--username=bob", f"--password={PASSWORD}", env=bob)
    assert relogin.returncode == 1


async def test_only_an_admin_registers_users_once_there_is_one(controller, deis, admin) -> None:
    erin = await register(deis, controller, "erin")
    refused = await deis(
        "register", controller.url, "--username=frank", f"--password={PASSWORD}", "--email=f@x.io", env=erin
    )
    assert (refused.returncode, refused.stderr) == (
        1,
        "Registration failed: Error: You do not have permission to perform this action.\n",
    ), refused
    anonymous = await deis(
        "register",
        controller.url,
        "--username=frank",
        f"--password={PASSWORD}",
        "--email=f@x.io",
        env={"DEIS_PROFILE": "nobody"},
    )
    assert anonymous.stderr == refused.stderr, anonymous
    users = await deis("users")
    assert "frank" not in users.stdout and "erin" in users.stdout, users


async def test_an_admin_registers_someone_else_without_logging_in_as_them(
    controller, deis, admin, workspace
) -> None:
    result = await deis(
        "auth:register",
        controller.url,
        "--username=dave",
        f"--password={PASSWORD}",
        "--email=d@x.io",
        "--login=false",
    )
    assert result.stdout == "Registered dave\n", result
    assert (await deis("whoami")).stdout.startswith("You are admin at")
    assert "dave" in (await deis("users")).stdout
