"""auth: register, login, logout, passwd, whoami, cancel, regenerate."""

from __future__ import annotations

import click

from deis_cli import output
from deis_cli.client import DeisClient, normalize_controller
from deis_cli.commandset import CommandSet
from deis_cli.errors import APIError, CLIError
from deis_cli.profiles import Profile, delete_profile
from deis_cli.session import Session

GROUP = CommandSet("auth", "manage users and authentication", default="whoami")

USER_FIELDS = [
    ("ID", "id"),
    ("Username", "username"),
    ("Email", "email"),
    ("First Name", "first_name"),
    ("Last Name", "last_name"),
    ("Last Login", "last_login"),
    ("Is Superuser", "is_superuser"),
    ("Is Staff", "is_staff"),
    ("Is Active", "is_active"),
    ("Date Joined", "date_joined"),
]


def _existing_profile(session: Session) -> Profile | None:
    try:
        return session.profile
    except CLIError:
        return None


def do_login(session: Session, controller: str, username: str, password: str, ssl_verify: bool) -> None:
    client = DeisClient(controller, ssl_verify=ssl_verify)
    try:
        client.check_connection()
        if not username:
            username = click.prompt("username")
        if not password:
            password = click.prompt("password", hide_input=True)
        body = client.post("/v2/auth/login/", {"username": username, "password": password}, auth=False)
        token = str(body.get("token", "")) if isinstance(body, dict) else ""
        if not token:
            raise CLIError("The controller did not return a token")
        client.token = token
        builder = client.advertised_builder()
    finally:
        client.close()
    previous = _existing_profile(session)
    profile = Profile(
        controller=client.controller,
        username=username,
        token=token,
        ssl_verify=ssl_verify,
        response_limit=previous.response_limit if previous else 100,
        builder=builder,
    )
    path = profile.save(session.path)
    session._profile = profile
    output.echo(f"Logged in as {username}")
    output.echo(f"Configuration file written to {path}")


@GROUP.command("register")
@click.argument("controller", metavar="<controller>")
@click.option("--username", default="", help="Provide a username for the new account.")
@click.option("--password", default="", help="Provide a password for the new account.")
@click.option("--email", default="", help="Provide an email address.")
@click.option(
    "--login",
    "login",
    type=click.BOOL,
    default=True,
    show_default=True,
    metavar="<bool>",
    help="Log in as the new user once registered (--login=false lets an admin create other users).",
)
@click.option(
    "--ssl-verify", type=click.BOOL, default=True, metavar="<bool>", help="Verify the controller's TLS."
)
def register(
    controller: str, username: str, password: str, email: str, login: bool, ssl_verify: bool
) -> None:
    """Registers a new user with a Deis controller.

    The first user registered on a new platform becomes its administrator.
    """
    session = Session.current()
    client = DeisClient(controller, ssl_verify=ssl_verify)
    existing = _existing_profile(session)
    if existing and normalize_controller(existing.controller) == client.controller:
        client.token = existing.token
    try:
        client.check_connection()
        if not username:
            username = click.prompt("username")
        if not password:
            password = click.prompt("password", hide_input=True, confirmation_prompt="password (confirm)")
        if not email:
            email = click.prompt("email", default="", show_default=False)
        body = {"username": username, "password": password, "email": email}
        try:
            client.post("/v2/auth/register", body)
        except APIError as e:
            e.prefix = "Registration failed: "
            raise
    finally:
        client.close()
    output.echo(f"Registered {username}")
    if login:
        do_login(session, controller, username, password, ssl_verify)


@GROUP.command("login")
@click.argument("controller", metavar="<controller>")
@click.option("--username", default="", help="Provide a username for the account.")
@click.option("--password", default="", help="Provide a password for the account.")
@click.option(
    "--ssl-verify", type=click.BOOL, default=True, metavar="<bool>", help="Verify the controller's TLS."
)
def login(controller: str, username: str, password: str, ssl_verify: bool) -> None:
    """Logs in by authenticating against a controller.

    The token is saved in the client profile (~/.deis/client.json, mode 0600).
    """
    do_login(Session.current(), controller, username, password, ssl_verify)


@GROUP.command("logout")
def logout() -> None:
    """Logs out from a controller and clears the user session."""
    delete_profile(Session.current().path)
    output.echo("Logged out")


@GROUP.command("passwd")
@click.option("--username", default="", help="The user whose password changes (administrators only).")
@click.option("--password", default="", help="The current password.")
@click.option("--new-password", default="", help="The new password.")
def passwd(username: str, password: str, new_password: str) -> None:
    """Changes the password for the current user."""
    session = Session.current()
    client = session.client
    if not password and not username:
        password = click.prompt("current password", hide_input=True)
    if not new_password:
        new_password = click.prompt(
            "new password", hide_input=True, confirmation_prompt="new password (confirm)"
        )
    body: dict[str, str] = {"new_password": new_password}
    if password:
        body["password"] = password
    if username:
        body["username"] = username
    try:
        client.post("/v2/auth/passwd", body)
    except APIError as e:
        e.prefix = "Password change failed: "
        raise
    output.echo("Password change succeeded.")


@GROUP.command("whoami")
@click.option("--all", "show_all", is_flag=True, help="Fetch the full user record from the controller.")
def whoami(show_all: bool) -> None:
    """Displays the currently logged in user."""
    session = Session.current()
    profile = session.profile
    if not show_all:
        output.echo(f"You are {profile.username} at {profile.controller}")
        return
    user = session.client.get("/v2/auth/whoami")
    for label, key in USER_FIELDS:
        if key in user:
            output.echo(f"{label}: {user[key]}")


@GROUP.command("cancel")
@click.option("--username", default="", help="The account to cancel (administrators may cancel others).")
@click.option("--password", default="", help="Log in again with this password before cancelling.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def cancel(username: str, password: str, yes: bool) -> None:
    """Cancels and removes the current account (or another one, for administrators)."""
    session = Session.current()
    profile = session.profile
    if password:
        output.echo("Please log in again in order to cancel this account")
        do_login(session, profile.controller, username or profile.username, password, profile.ssl_verify)
        session._client = None
        profile = session.profile
    target = username or profile.username
    if not yes:
        answer = click.prompt(
            f"cancel account {target} at {profile.controller}? (y/N)", default="", show_default=False
        )
        if answer.strip().lower() != "y":
            output.echo("Account not changed", err=True)
            return
    body = {"username": username} if username and username != profile.username else None
    session.client.delete("/v2/auth/cancel", body)
    if target == profile.username:
        delete_profile(session.path)
    output.echo("Account cancelled")


@GROUP.command("regenerate")
@click.option("-u", "--username", default="", help="Regenerate the token of this user (administrators only).")
@click.option("--all", "everyone", is_flag=True, help="Regenerate the tokens of every user (administrators).")
def regenerate(username: str, everyone: bool) -> None:
    """Regenerates the authentication token of a user.

    Your own new token is saved in the profile; old tokens stop working at once.
    """
    session = Session.current()
    body: dict[str, object] = {}
    if everyone:
        body["all"] = True
    elif username:
        body["username"] = username
    answer = session.client.post("/v2/auth/tokens/", body)
    if not username and not everyone:
        token = answer.get("token") if isinstance(answer, dict) else None
        if token:
            profile = session.profile
            profile.token = str(token)
            profile.save(session.path)
    output.echo("Token Regenerated")
