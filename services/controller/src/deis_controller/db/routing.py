"""Domains, certificates, app settings and TLS: what decides how an app is routed."""

from __future__ import annotations

import uuid
from datetime import datetime

from deis_controller.db.pool import Tx
from deis_controller.records import AppSettings, Certificate, Domain, SettingsValues, Tls

_DOMAIN = "d.id, d.app_uuid, a.id AS app, d.owner, d.domain, d.certificate_id, d.created, d.updated"
_SETTINGS = "uuid, app_uuid, owner, maintenance, routable, whitelist, autoscale, label, created, updated"
_TLS = "uuid, app_uuid, owner, https_enforced, created, updated"
_CERT = (
    "c.id, c.name, c.owner, c.certificate, c.key, c.common_name, c.expires, c.starts, c.fingerprint, c.san,"
    " c.issuer, c.subject, c.created, c.updated,"
    " coalesce((SELECT array_agg(d.domain ORDER BY d.domain) FROM domains d WHERE d.certificate_id = c.id),"
    " '{}') AS domains"
)


# -- domains --------------------------------------------------------------------------------------


async def domains_page(tx: Tx, app_uuid: uuid.UUID, limit: int, offset: int) -> tuple[int, list[Domain]]:
    count = int(await tx.val("SELECT count(*) FROM domains WHERE app_uuid = $1", app_uuid))
    rows = await tx.rows(
        f"SELECT {_DOMAIN} FROM domains d JOIN apps a ON a.uuid = d.app_uuid WHERE d.app_uuid = $1"
        " ORDER BY d.domain LIMIT $2 OFFSET $3",
        app_uuid,
        limit,
        offset,
    )
    return count, [Domain.from_row(r) for r in rows]


async def domain_names(tx: Tx, app_uuid: uuid.UUID) -> list[str]:
    rows = await tx.rows("SELECT domain FROM domains WHERE app_uuid = $1 ORDER BY domain", app_uuid)
    return [r["domain"] for r in rows]


async def domain(tx: Tx, name: str) -> Domain | None:
    row = await tx.row(
        f"SELECT {_DOMAIN} FROM domains d JOIN apps a ON a.uuid = d.app_uuid WHERE d.domain = $1", name
    )
    return Domain.from_row(row) if row is not None else None


async def add_domain(tx: Tx, app_uuid: uuid.UUID, owner: str, name: str) -> Domain:
    await tx.run("INSERT INTO domains (app_uuid, owner, domain) VALUES ($1, $2, $3)", app_uuid, owner, name)
    row = await tx.one(
        f"SELECT {_DOMAIN} FROM domains d JOIN apps a ON a.uuid = d.app_uuid WHERE d.domain = $1", name
    )
    return Domain.from_row(row)


async def remove_domain(tx: Tx, domain_id: int) -> None:
    await tx.run("DELETE FROM domains WHERE id = $1", domain_id)


async def set_domain_cert(tx: Tx, domain_id: int, cert_id: int | None) -> None:
    await tx.run("UPDATE domains SET certificate_id = $2, updated = now() WHERE id = $1", domain_id, cert_id)


# -- certificates ---------------------------------------------------------------------------------


async def certs_page(tx: Tx, owner: str, limit: int, offset: int) -> tuple[int, list[Certificate]]:
    count = int(await tx.val("SELECT count(*) FROM certificates WHERE owner = $1", owner))
    rows = await tx.rows(
        f"SELECT {_CERT} FROM certificates c WHERE c.owner = $1"
        " ORDER BY c.name, c.common_name, c.expires LIMIT $2 OFFSET $3",
        owner,
        limit,
        offset,
    )
    return count, [Certificate.from_row(r) for r in rows]


async def cert(tx: Tx, owner: str, name: str) -> Certificate | None:
    row = await tx.row(f"SELECT {_CERT} FROM certificates c WHERE c.owner = $1 AND c.name = $2", owner, name)
    return Certificate.from_row(row) if row is not None else None


async def cert_name(tx: Tx, cert_id: int) -> str:
    return str(await tx.val("SELECT name FROM certificates WHERE id = $1", cert_id))


async def cert_exists(tx: Tx, name: str) -> bool:
    return bool(await tx.val("SELECT EXISTS (SELECT 1 FROM certificates WHERE name = $1)", name))


async def add_cert(
    tx: Tx,
    owner: str,
    name: str,
    certificate: str,
    key: str,
    *,
    common_name: str | None,
    expires: datetime,
    starts: datetime,
    fingerprint: str,
    san: list[str],
    issuer: str,
    subject: str,
) -> None:
    await tx.run(
        "INSERT INTO certificates (name, owner, certificate, key, common_name, expires, starts, fingerprint,"
        " san, issuer, subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        name,
        owner,
        certificate,
        key,
        common_name,
        expires,
        starts,
        fingerprint,
        san,
        issuer,
        subject,
    )


async def cert_domains(tx: Tx, cert_id: int) -> list[Domain]:
    rows = await tx.rows(
        f"SELECT {_DOMAIN} FROM domains d JOIN apps a ON a.uuid = d.app_uuid WHERE d.certificate_id = $1",
        cert_id,
    )
    return [Domain.from_row(r) for r in rows]


async def delete_cert(tx: Tx, cert_id: int) -> None:
    await tx.run("DELETE FROM certificates WHERE id = $1", cert_id)


# -- app settings and TLS -------------------------------------------------------------------------


async def latest_settings(tx: Tx, app_uuid: uuid.UUID) -> AppSettings | None:
    row = await tx.row(
        f"SELECT {_SETTINGS} FROM app_settings WHERE app_uuid = $1 ORDER BY created DESC LIMIT 1", app_uuid
    )
    return AppSettings.from_row(row) if row is not None else None


async def add_settings(tx: Tx, app_uuid: uuid.UUID, owner: str, values: SettingsValues) -> AppSettings:
    row = await tx.one(
        "INSERT INTO app_settings (uuid, app_uuid, owner, maintenance, routable, whitelist, autoscale, label)"
        f" VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_SETTINGS}",
        uuid.uuid4(),
        app_uuid,
        owner,
        values.maintenance,
        values.routable,
        list(values.whitelist),
        {k: dict(v) for k, v in values.autoscale.items()},
        dict(values.label),
    )
    return AppSettings.from_row(row)


async def latest_tls(tx: Tx, app_uuid: uuid.UUID) -> Tls | None:
    row = await tx.row(f"SELECT {_TLS} FROM tls WHERE app_uuid = $1 ORDER BY created DESC LIMIT 1", app_uuid)
    return Tls.from_row(row) if row is not None else None


async def add_tls(tx: Tx, app_uuid: uuid.UUID, owner: str, https_enforced: bool | None) -> Tls:
    row = await tx.one(
        f"INSERT INTO tls (uuid, app_uuid, owner, https_enforced) VALUES ($1, $2, $3, $4) RETURNING {_TLS}",
        uuid.uuid4(),
        app_uuid,
        owner,
        https_enforced,
    )
    return Tls.from_row(row)
