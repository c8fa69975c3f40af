"""certs: TLS certificates (global objects owned by a user) and their binding to domains."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from deis_cli import output
from deis_cli.commandset import CommandSet
from deis_cli.errors import CLIError
from deis_cli.session import Session, limit_option

GROUP = CommandSet("certs", "manage SSL endpoints for an app")


def _parse_time(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def short_date(value: object) -> str:
    parsed = _parse_time(value)
    return f"{parsed.day} {parsed.strftime('%b %Y')}" if parsed else "unknown"


def expires_text(value: object, now: datetime | None = None) -> str:
    parsed = _parse_time(value)
    if parsed is None:
        return "unknown"
    now = now or datetime.now(UTC)
    text = short_date(value)
    if parsed < now:
        return text + " (expired)"
    years, months, days = parsed.year - now.year, parsed.month - now.month, parsed.day - now.day
    if years > 0:
        return text + f" (in {years} year{'s' if years > 1 else ''})"
    if months > 0:
        return text + f" (in {months} month{'s' if months > 1 else ''})"
    if days != 0:
        return text + f" (in {days} day{'s' if days > 1 else ''})"
    return text + " (in)"


def short_fingerprint(fp: str) -> str:
    return fp[:5] + "[...]" + fp[-5:] if len(fp) > 4 else fp


@GROUP.command("list")
@limit_option
def list_certs(limit: int | None) -> None:
    """Lists SSL certificates for the current user."""
    session = Session.current()
    found, _ = session.client.certs(session.limit(limit))
    if not found:
        output.echo("No certs")
        return
    rows = [
        [
            str(c.get("name", "")),
            str(c.get("common_name") or ""),
            ",".join(c.get("san") or []),
            expires_text(c.get("expires")),
            short_fingerprint(str(c.get("fingerprint") or "")),
            ",".join(c.get("domains") or []),
            short_date(c.get("updated")),
            short_date(c.get("created")),
        ]
        for c in found
    ]
    headers = [
        "Name",
        "Common Name",
        "SubjectAltName",
        "Expires",
        "Fingerprint",
        "Domains",
        "Updated",
        "Created",
    ]
    output.table(headers, rows)


@GROUP.command("add")
@click.argument("name", metavar="<name>")
@click.argument("cert", metavar="<cert>")
@click.argument("key", metavar="<key>")
def add(name: str, cert: str, key: str) -> None:
    """Adds an SSL certificate (PEM file, or a bundle) and its private key under a name."""
    session = Session.current()
    try:
        cert_text, key_text = Path(cert).read_text(), Path(key).read_text()
    except OSError as e:
        raise CLIError(f"{e.filename}: {e.strerror}") from e
    output.echo("Adding SSL endpoint... ", nl=False)
    with output.progress():
        session.client.post("/v2/certs/", {"name": name, "certificate": cert_text, "key": key_text})
    output.echo("done")


@GROUP.command("remove")
@click.argument("name", metavar="<name>")
def remove(name: str) -> None:
    """Removes an SSL certificate (detaching it from every domain)."""
    session = Session.current()
    output.echo(f"Removing {name}... ", nl=False)
    with output.progress():
        session.client.delete(f"/v2/certs/{name}/")
    output.echo("done")


@GROUP.command("info")
@click.argument("name", metavar="<name>")
def info(name: str) -> None:
    """Prints information about one SSL certificate."""
    session = Session.current()
    cert = session.client.cert(name)
    output.header(f"=== {cert.get('name', name)} Certificate")
    rows = [
        ("Common Name(s):", cert.get("common_name") or ""),
        ("Expires At:", short_date(cert.get("expires"))),
        ("Starts At:", short_date(cert.get("starts"))),
        ("Fingerprint:", cert.get("fingerprint") or ""),
        ("Subject Alt Name:", ",".join(cert.get("san") or []) or "N/A"),
        ("Issuer:", cert.get("issuer") or ""),
        ("Subject:", cert.get("subject") or ""),
        ("", None),
        ("Connected Domains:", ",".join(cert.get("domains") or []) or "No connected domains"),
        ("Owner:", cert.get("owner") or ""),
        ("Created:", short_date(cert.get("created"))),
        ("Updated:", short_date(cert.get("updated"))),
    ]
    for label, value in rows:
        output.echo(f"{label:<19}{value}" if value is not None else "")


@GROUP.command("attach")
@click.argument("name", metavar="<name>")
@click.argument("domain", metavar="<domain>")
def attach(name: str, domain: str) -> None:
    """Attaches a certificate to a domain already bound to an app."""
    session = Session.current()
    output.echo(f"Attaching certificate {name} to domain {domain}... ", nl=False)
    with output.progress():
        session.client.post(f"/v2/certs/{name}/domain/", {"domain": domain})
    output.echo("done")


@GROUP.command("detach")
@click.argument("name", metavar="<name>")
@click.argument("domain", metavar="<domain>")
def detach(name: str, domain: str) -> None:
    """Detaches a certificate from a domain."""
    session = Session.current()
    output.echo(f"Detaching certificate {name} from domain {domain}... ", nl=False)
    with output.progress():
        session.client.delete(f"/v2/certs/{name}/domain/{domain}")
    output.echo("done")
