"""App lifecycle: creation (v1, settings, TLS, default domain), lookup, transfer and destruction."""

from __future__ import annotations

from typing import Any

from deis_common.events.apps import AppCreated, AppDestroyed
from deis_common.events.domains import DomainAdded
from deis_controller.controller import Work
from deis_controller.db import UniqueViolation
from deis_controller.db import apps as apps_db
from deis_controller.db import routing as routing_db
from deis_controller.domain import releases, users
from deis_controller.domain.names import generated_name, validate_app_id
from deis_controller.domain.users import User
from deis_controller.errors import FieldErrors, PermissionDenied

DEFAULT_SETTINGS: dict[str, Any] = {
    "maintenance": False,
    "routable": True,
    "whitelist": [],
    "autoscale": {},
    "label": {},
}


async def create(
    work: Work, owner: str, app_id: str | None, *, reserved: set[str], tags: dict[str, str]
) -> dict[str, Any]:
    if app_id is None:
        app_id = generated_name()
        while await apps_db.exists(work.tx, app_id) or app_id in reserved:
            app_id = generated_name()
    validate_app_id(app_id, reserved)
    if await apps_db.exists(work.tx, app_id):
        raise FieldErrors.one("id", "Application with this id already exists.")
    try:
        async with work.tx.savepoint():
            app = await apps_db.create(work.tx, app_id, owner)
    except UniqueViolation as e:
        raise FieldErrors.one("id", "Application with this id already exists.") from e
    await work.emit(AppCreated(app=app_id, owner=owner))
    # The settings exist before v1 is published (its state carries them); the app's log still tells
    # the creation in Workflow's order: config, initial release, appsettings, domain.
    settings = await routing_db.add_settings(work.tx, app["uuid"], owner, DEFAULT_SETTINGS)
    await routing_db.add_tls(work.tx, app["uuid"], owner, None)
    await releases.initial(work, app, tags)
    work.log(app_id, f"appsettings {app_id}-{str(settings['uuid'])[:7]} updated")
    await routing_db.add_domain(work.tx, app["uuid"], owner, app_id)
    await work.emit(DomainAdded(app=app_id, domain=app_id))
    work.log(app_id, f"domain {app_id} added")
    fresh = await apps_db.get(work.tx, app_id)
    assert fresh is not None
    return fresh


async def destroy(work: Work, app: dict[str, Any]) -> None:
    await apps_db.delete(work.tx, app["uuid"])
    await work.emit(AppDestroyed(app=app["id"]))


async def get(work: Work, app_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    return await apps_db.get(work.tx, app_id, lock=lock)


async def all_ids(work: Work) -> list[str]:
    return await apps_db.all_ids(work.tx)


async def page_visible(
    work: Work, limit: int, offset: int, *, user: User
) -> tuple[int, list[dict[str, Any]]]:
    """A page of the apps ``user`` may see, by name."""
    return await apps_db.page_visible(work.tx, user.username, user.is_superuser, limit, offset)


async def transfer(work: Work, app: dict[str, Any], user: User, new_owner: str) -> None:
    """Make ``new_owner`` the owner (only the owner or an admin may)."""
    if not (user.is_superuser or app["owner"] == user.username):
        raise PermissionDenied()
    await users.get(work, new_owner)
    await apps_db.transfer(work.tx, app["uuid"], app["owner"], new_owner)
    work.log(app["id"], f"{user.username} transferred {app['id']} to {new_owner}")
