"""SSH public keys: users' keys, the MD5 colon fingerprint the builder looks keys up by, and the keys
the builder may accept for an app."""

from __future__ import annotations

import base64
import binascii
import hashlib

from deis_controller.controller import Work
from deis_controller.db import UniqueViolation
from deis_controller.db import apps as apps_db
from deis_controller.db import keys as keys_db
from deis_controller.domain import access, users
from deis_controller.errors import FieldErrors, NoMatch, NotFound, PermissionDenied, found
from deis_controller.records import Key


def fingerprint(public: str) -> str:
    """MD5 of the decoded key blob as lowercase hex pairs joined by ``:``; 400 when it is not base64."""
    parts = public.split()
    if len(parts) < 2:
        raise FieldErrors.one("public", "Key contains invalid base64 chars")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError) as e:
        raise FieldErrors.one("public", "Key contains invalid base64 chars") from e
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def short(public: str) -> str:
    """How a key is named in log lines."""
    return f"{public[:18]}...{public[-31:]}"


async def page(work: Work, limit: int, offset: int, *, owner: str) -> tuple[int, list[Key]]:
    return await keys_db.page(work.tx, owner, limit, offset)


async def get(work: Work, owner: str, key_id: str) -> Key:
    return found(await keys_db.get(work.tx, owner, key_id), "Key")


async def add(work: Work, owner: str, key_id: str, public: str) -> Key:
    """Store ``owner``'s key; ids and keys are unique platform-wide."""
    public = public.strip()
    fp = fingerprint(public)
    if await keys_db.exists(work.tx, key_id=key_id):
        raise FieldErrors.one("id", "SSH Key with this id already exists.")
    if await keys_db.exists(work.tx, public=public):
        raise FieldErrors.one("public", "Public Key is already in use")
    try:
        return await keys_db.create(work.tx, owner, key_id, public, fp)
    except UniqueViolation as e:
        raise FieldErrors.one("public", "Public Key is already in use") from e


async def remove(work: Work, owner: str, key_id: str) -> None:
    if not await keys_db.delete(work.tx, owner, key_id):
        raise NoMatch("Key")


# -- what the builder asks ------------------------------------------------------------------------


async def owner_of(work: Work, fingerprint: str) -> str:
    return found(await keys_db.owner_of_fingerprint(work.tx, fingerprint), "Key")


def _by_user(keys: list[Key]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for key in keys:
        out.setdefault(key.owner, []).append({"key": key.public, "fingerprint": key.fingerprint})
    return out


async def of_collaborators(work: Work, app_id: str) -> dict[str, list[dict[str, str]]]:
    """The keys of the app's collaborators, per user."""
    app = found(await apps_db.get(work.tx, app_id), "App")
    usernames = await apps_db.collaborators(work.tx, app.uuid)
    return _by_user(await keys_db.of_users(work.tx, usernames))


async def of_user_for(work: Work, app_id: str, username: str) -> dict[str, list[dict[str, str]]]:
    """The keys of ``username``, who must be allowed to read the app."""
    app = found(await apps_db.get(work.tx, app_id), "App")
    user = await users.get(work, username)
    if not access.allowed(await access.role_of(work, app, user), "GET"):
        raise PermissionDenied()
    rows = await keys_db.of_users(work.tx, [user.username])
    if not rows:
        raise NotFound("No Keys match the given query.")
    return _by_user(rows)
