"""App lifecycle: creation (v1, settings, TLS, default domain), lookup, transfer and destruction."""

from __future__ import annotations

from deis_common.events.apps import AppCreated, AppDestroyed
from deis_common.events.domains import DomainAdded
from deis_controller.controller import Work
from deis_controller.db import UniqueViolation
from deis_controller.db import apps as apps_db
from deis_controller.db import routing as routing_db
from deis_controller.domain import releases, users
from deis_controller.domain.names import generated_name, validate_app_id
from deis_controller.errors import FieldErrors, PermissionDenied, found
from deis_controller.records import App, SettingsValues, User


async def create(
    work: Work, owner: str, app_id: str | None, *, reserved: set[str], tags: dict[str, str]
) -> App:
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
    settings = await routing_db.add_settings(work.tx, app.uuid, owner, SettingsValues())
    await routing_db.add_tls(work.tx, app.uuid, owner, None)
    await releases.initial(work, app, tags)
    work.log(app_id, f"appsettings {app_id}-{str(settings.uuid)[:7]} updated")
    await routing_db.add_domain(work.tx, app.uuid, owner, app_id)
    await work.emit(DomainAdded(app=app_id, domain=app_id))
    work.log(app_id, f"domain {app_id} added")
    return await get_or_raise(work, app_id)


async def destroy(work: Work, app: App) -> None:
    await apps_db.delete(work.tx, app.uuid)
    await work.emit(AppDestroyed(app=app.id))


async def get(work: Work, app_id: str, *, lock: bool = False) -> App | None:
    return await apps_db.get(work.tx, app_id, lock=lock)


async def get_or_raise(work: Work, app_id: str) -> App:
    return found(await apps_db.get(work.tx, app_id), "App")


async def all_ids(work: Work) -> list[str]:
    return await apps_db.all_ids(work.tx)


async def page_visible(
    work: Work, limit: int, offset: int, *, user: User
) -> tuple[int, list[App]]:
    """A page of the apps ``user`` may see, by name."""
    return await apps_db.page_visible(work.tx, user.username, user.is_superuser, limit, offset)


async def transfer(work: Work, app: App, user: User, new_owner: str) -> None:
    """Make ``new_owner`` the owner (only the owner or an admin may)."""
    if not (user.is_superuser or app.owner == user.username):
        raise PermissionDenied()
    await users.get(work, new_owner)
    await apps_db.transfer(work.tx, app.uuid, app.owner, new_owner)
    work.log(app.id, f"{user.username} transferred {app.id} to {new_owner}")
