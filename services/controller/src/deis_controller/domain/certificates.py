"""TLS certificates: reading PEM (certificate and key) and the derived, read-only fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from deis_controller.errors import FieldErrors

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
