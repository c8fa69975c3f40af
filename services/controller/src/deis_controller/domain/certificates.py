"""TLS certificates: reading PEM (certificate and key), the derived read-only fields, and attaching
certificates to domains."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from deis_common.events.certs import CertAttached, CertDetached
from deis_controller.controller import Work
from deis_controller.db import UniqueViolation
from deis_controller.db import routing as routing_db
from deis_controller.domain import domains
from deis_controller.errors import Conflict, FieldErrors, found
from deis_controller.records import Certificate

NAME = re.compile(r"^[a-z0-9-]+$")


@dataclass(frozen=True)
class ParsedCertificate:
    common_name: str | None
    expires: datetime
    starts: datetime
    fingerprint: str
    san: list[str]
    issuer: str
    subject: str


def _name(name: x509.Name) -> str:
    return "".join(f"/{attr.rfc4514_attribute_name}={attr.value!s}" for attr in name)


def parse(name: str, certificate: str, key: str) -> ParsedCertificate:
    if not NAME.match(name) or len(name) > 253:
        raise FieldErrors.one("name", "Can only contain a-z (lowercase), 0-9 and hyphens")
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError as e:
        raise FieldErrors.one("certificate", f"Could not load certificate: {e}") from e
    try:
        serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError) as e:
        raise FieldErrors.one("key", f"Could not load private key: {e}") from e
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san_ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        san = [str(v) for v in san_ext.value.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        san = []
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ParsedCertificate(
        common_name=str(common[0].value) if common else None,
        expires=cert.not_valid_after_utc,
        starts=cert.not_valid_before_utc,
        fingerprint=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        san=san,
        issuer=_name(cert.issuer),
        subject=_name(cert.subject),
    )


# -- a user's certificates, attached to domains -----------------------------------------------------


async def page(work: Work, limit: int, offset: int, *, owner: str) -> tuple[int, list[Certificate]]:
    return await routing_db.certs_page(work.tx, owner, limit, offset)


async def get(work: Work, owner: str, name: str) -> Certificate:
    return found(await routing_db.cert(work.tx, owner, name), "Certificate")


async def create(
    work: Work, owner: str, name: str, certificate: str, key: str, parsed: ParsedCertificate
) -> Certificate:
    if await routing_db.cert_exists(work.tx, name):
        raise FieldErrors.one("name", "Certificate with this name already exists.")
    try:
        async with work.tx.savepoint():
            await routing_db.add_cert(
                work.tx,
                owner,
                name,
                certificate,
                key,
                common_name=parsed.common_name,
                expires=parsed.expires,
                starts=parsed.starts,
                fingerprint=parsed.fingerprint,
                san=parsed.san,
                issuer=parsed.issuer,
                subject=parsed.subject,
            )
    except UniqueViolation as e:
        raise FieldErrors.one("name", "Certificate with this name already exists.") from e
    return await get(work, owner, name)


async def delete(work: Work, owner: str, name: str) -> None:
    """Delete the certificate, detaching it from its domains first."""
    cert = await get(work, owner, name)
    for domain in await routing_db.cert_domains(work.tx, cert.id):
        await routing_db.set_domain_cert(work.tx, domain.id, None)
        await work.emit(CertDetached(app=domain.app, name=cert.name, domain=domain.domain))
    await routing_db.delete_cert(work.tx, cert.id)


async def attach(work: Work, owner: str, name: str, raw_domain: str) -> str:
    """Attach the certificate to a domain of any app; returns that app."""
    cert = await get(work, owner, name)
    domain = await domains.find(work, domains.existing_name(raw_domain))
    if domain.certificate_id is not None:
        raise Conflict("Domain already has a certificate attached to it")
    await routing_db.set_domain_cert(work.tx, domain.id, cert.id)
    await work.emit(
        CertAttached(
            app=domain.app,
            name=cert.name,
            domain=domain.domain,
            certificate=cert.certificate,
            key=cert.key,
        )
    )
    work.log(domain.app, f"certificate {cert.name} attached to {domain.domain}")
    return domain.app


async def detach(work: Work, owner: str, name: str, raw_domain: str) -> str:
    """Detach the certificate from a domain; returns the domain's app."""
    cert = await get(work, owner, name)
    domain = await domains.find(work, domains.existing_name(raw_domain))
    await routing_db.set_domain_cert(work.tx, domain.id, None)
    await work.emit(CertDetached(app=domain.app, name=cert.name, domain=domain.domain))
    work.log(domain.app, f"certificate {cert.name} detached from {domain.domain}")
    return domain.app
