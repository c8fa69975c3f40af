"""domains and certs, driven through the installed `deis` against a real controller."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from deis_cli.commands.certs import expires_text


def self_signed(directory: Path, common_name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{common_name}.crt", directory / f"{common_name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "400",
            "-subj",
            f"/CN={common_name}",
            "-addext",
            f"subjectAltName=DNS:{common_name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def not_after(cert: Path) -> datetime:
    return x509.load_pem_x509_certificate(cert.read_bytes()).not_valid_after_utc


@pytest.mark.parametrize(
    ("now", "expires", "text"),
    [
        # 400 days from early in the year ends the next calendar year; from December, two years on.
        ("2026-03-01", "2027-04-05", "5 Apr 2027 (in 1 year)"),
        ("2026-12-04", "2028-01-08", "8 Jan 2028 (in 2 years)"),
        ("2026-12-04", "2027-01-08", "8 Jan 2027 (in 1 year)"),
        ("2026-03-01", "2026-06-01", "1 Jun 2026 (in 3 months)"),
        ("2026-03-01", "2026-03-02", "2 Mar 2026 (in 1 day)"),
        ("2026-03-01", "2026-02-28", "28 Feb 2026 (expired)"),
    ],
)
def test_expiry_is_told_in_calendar_units_from_a_fixed_clock(now: str, expires: str, text: str) -> None:
    clock = datetime.fromisoformat(now).replace(tzinfo=UTC)
    assert expires_text(expires + "T12:00:00Z", clock) == text


async def test_domains_add_list_and_remove(deis, admin) -> None:
    assert (await deis("create", "site", "--no-remote")).ok
    assert (await deis("domains", "-a", "site")).stdout == "=== site Domains\nsite\n"
    added = await deis("domains:add", "www.example.com", "-a", "site")
    assert added.stdout == "Adding www.example.com to site... done\n", added
    assert (
        await deis("domains:list", "-a", "site", "--limit=1")
    ).stdout == "=== site Domains (1 of 2)\nsite\n"

    wildcard = await deis("domains:add", "*", "-a", "site")
    assert wildcard.returncode == 1
    assert "Hostname can't only be a wildcard" in wildcard.stderr

    removed = await deis("domains:remove", "www.example.com", "-a", "site")
    assert removed.stdout == "Removing www.example.com from site... done\n"
    gone = await deis("domains:remove", "www.example.com", "-a", "site")
    assert gone.returncode == 1 and "404 Not Found" in gone.stderr


async def test_certs_add_attach_info_detach_remove(deis, admin, workspace) -> None:
    assert (await deis("certs")).stdout == "No certs\n"
    assert (await deis("create", "secure", "--no-remote")).ok
    assert (await deis("domains:add", "secure.example.com", "-a", "secure")).ok
    cert, key = self_signed(workspace.cwd, "secure.example.com")

    added = await deis("certs:add", "secure-cert", str(cert), str(key))
    assert added.stdout == "Adding SSL endpoint... done\n", added
    before = datetime.now(UTC)
    listed = (await deis("certs:list")).stdout.splitlines()
    assert listed[0].split() == [
        "Name",
        "Common",
        "Name",
        "SubjectAltName",
        "Expires",
        "Fingerprint",
        "Domains",
        "Updated",
        "Created",
    ]
    assert listed[1].startswith("secure-cert") and "secure.example.com" in listed[1]
    expires = not_after(cert)
    # The same rule with the clock read either side of the command: never today's calendar in the test.
    assert any(expires_text(expires, now) in listed[1] for now in (before, datetime.now(UTC))), listed[1]

    attached = await deis("certs:attach", "secure-cert", "secure.example.com")
    assert attached.stdout == "Attaching certificate secure-cert to domain secure.example.com... done\n", (
        attached
    )
    info = (await deis("certs:info", "secure-cert")).stdout.splitlines()
    assert info[0] == "=== secure-cert Certificate"
    assert "Common Name(s):    secure.example.com" in info
    assert "Connected Domains: secure.example.com" in info

    twice = await deis("certs:attach", "secure-cert", "secure.example.com")
    assert twice.returncode == 1 and "409 Conflict" in twice.stderr

    detached = await deis("certs:detach", "secure-cert", "secure.example.com")
    assert detached.stdout == "Detaching certificate secure-cert from domain secure.example.com... done\n"
    removed = await deis("certs:remove", "secure-cert")
    assert removed.stdout == "Removing secure-cert... done\n"
    assert (await deis("certs")).stdout == "No certs\n"


async def test_certs_refuse_bad_input(deis, admin, workspace) -> None:
    cert, key = self_signed(workspace.cwd, "bad.example.com")
    upper = await deis("certs:add", "Not_Valid", str(cert), str(key))
    assert upper.returncode == 1
    assert "name: Can only contain a-z (lowercase), 0-9 and hyphens" in upper.stderr
    swapped = await deis("certs:add", "swapped", str(key), str(cert))
    assert swapped.returncode == 1 and "certificate: " in swapped.stderr
    missing = await deis("certs:add", "missing", "nope.crt", str(key))
    assert missing.returncode == 1 and missing.stderr == "Error: nope.crt: No such file or directory\n"
    unknown = await deis("certs:info", "nothing")
    assert unknown.returncode == 1 and "404 Not Found" in unknown.stderr
