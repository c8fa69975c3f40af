"""Users: the account record, registration, login bookkeeping, tokens and administrators."""

from __future__ import annotations

import re

from deis_controller.controller import Work
from deis_controller.db import UniqueViolation
from deis_controller.db import users as users_db
from deis_controller.domain.credentials import new_token, token_digest, token_matches
from deis_controller.errors import Conflict, FieldErrors, PermissionDenied, found
from deis_controller.records import Admin, User

USERNAME = re.compile(r"^[\w.@+-]{1,150}\Z")  # \Z: "bob\n" is no username
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")


# -- accounts -------------------------------------------------------------------------------------


async def by_token(work: Work, key: str) -> User | None:
    """The active user whose API token is ``key``."""
    user = await users_db.by_token_digest(work.tx, token_digest(key))
    if user is None or not user.is_active or not token_matches(user.token, key):
        return None
    return user


async def find(work: Work, username: str) -> User | None:
    return await users_db.by_username(work.tx, username)


async def get(work: Work, username: str) -> User:
    return found(await find(work, username), "User")


async def any_admin(work: Work) -> bool:
    return await users_db.any_superuser(work.tx)


async def register(
    work: Work,
    *,
    username: str,
    password_hash: str,
    email: str,
    first_name: str,
    last_name: str,
    only_if_no_admin: bool,
) -> User:
    """A new user (the first one becomes admin); ``only_if_no_admin``: refused once an admin exists."""
    await users_db.lock_registration(work.tx)
    has_admin = await users_db.any_superuser(work.tx)
    if only_if_no_admin and has_admin:
        raise PermissionDenied()
    token, digest = new_token()
    try:
        return await users_db.create(
            work.tx,
            username=username,
            password=password_hash,
            email=email,
            first_name=first_name,
            last_name=last_name,
            admin=not has_admin,
            token=token,
            digest=digest,
        )
    except UniqueViolation as e:
        raise FieldErrors.one("username", "A user with that username already exists.") from e


async def touch_login(work: Work, username: str) -> None:
    await users_db.touch_login(work.tx, username)


async def set_password(work: Work, username: str, password_hash: str) -> None:
    await users_db.set_password(work.tx, username, password_hash)


async def cancel(work: Work, username: str) -> None:
    """Delete the account, refused while the user still owns apps or other records."""
    owned = await users_db.owned_counts(work.tx, username)
    if owned.pop("apps"):
        raise Conflict(f"{username} still has applications assigned. Delete or transfer ownership")
    kinds = [k for k, n in owned.items() if n]
    if kinds:
        raise Conflict(f"{username} still owns {', '.join(kinds)}; delete or transfer them first")
    await users_db.delete(work.tx, username)


async def regenerate_token(work: Work, username: str) -> str:
    token, digest = new_token()
    await users_db.set_token(work.tx, username, token, digest)
    return token


async def regenerate_all_tokens(work: Work) -> None:
    for username in await users_db.all_usernames(work.tx):
        await users_db.set_token(work.tx, username, *new_token())


async def page(work: Work, limit: int, offset: int) -> tuple[int, list[User]]:
    return await users_db.page(work.tx, limit, offset)


async def admins_page(work: Work, limit: int, offset: int) -> tuple[int, list[Admin]]:
    return await users_db.admins_page(work.tx, limit, offset)


async def set_admin(work: Work, username: str, admin: bool) -> None:
    await get(work, username)
    await users_db.set_admin(work.tx, username, admin)
