"""An app's domains: the hostnames it answers to, unique platform-wide, stored in ACE form."""

from __future__ import annotations

from deis_common.events.certs import CertDetached
from deis_common.events.domains import DomainAdded, DomainRemoved
from deis_controller.controller import Work
from deis_controller.db import UniqueViolation
from deis_controller.db import routing as routing_db
from deis_controller.domain.hostnames import to_ace
from deis_controller.errors import FieldErrors, NoMatch, found
from deis_controller.records import App, Domain


async def page(
    work: Work, limit: int, offset: int, *, app: App
) -> tuple[int, list[Domain]]:
    return await routing_db.domains_page(work.tx, app.uuid, limit, offset)


def existing_name(raw: str) -> str:
    """The ACE form of a domain named in a path: a name that cannot be valid is not found."""
    try:
        return to_ace(raw)
    except FieldErrors as e:
        raise NoMatch("Domain") from e


async def find(work: Work, name: str) -> Domain:
    return found(await routing_db.domain(work.tx, name), "Domain")


async def add(work: Work, app: App, user: str, name: str) -> Domain:
    """Add ``name`` (ACE form, see :func:`~deis_controller.domain.hostnames.to_ace`) to the app."""
    if await routing_db.domain(work.tx, name) is not None:
        raise FieldErrors.one("domain", f"The domain {name} is already in use by another app")
    try:
        async with work.tx.savepoint():
            row = await routing_db.add_domain(work.tx, app.uuid, user, name)
    except UniqueViolation as e:
        raise FieldErrors.one("domain", "Domain is already in use by another application") from e
    await work.emit(DomainAdded(app=app.id, domain=name))
    work.log(app.id, f"domain {name} added")
    return row


async def remove(work: Work, app: App, name: str) -> None:
    """Remove the app's domain ``name``, detaching its certificate first."""
    row = await find(work, name)
    if row.app_uuid != app.uuid:
        raise NoMatch("Domain")
    name = row.domain
    if row.certificate_id is not None:
        cert = await routing_db.cert_name(work.tx, row.certificate_id)
        await work.emit(CertDetached(app=app.id, name=cert, domain=name))
    await routing_db.remove_domain(work.tx, row.id)
    await work.emit(DomainRemoved(app=app.id, domain=name))
    work.log(app.id, f"domain {name} removed")
