"""Domain names as apps are reached by: validation and the ACE (punycode) form they are stored in."""

from __future__ import annotations

import re

import idna

from deis_controller.errors import FieldErrors

_ASCII_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _fail(message: str) -> FieldErrors:
    return FieldErrors.one("domain", message)


def _label(label: str, hostname: str) -> str:
    def invalid(why: str) -> FieldErrors:
        return _fail(f"Hostname does not look valid, could not convert to ACE {hostname}: {why}")

    if label.isascii():
        if not _ASCII_LABEL.match(label):
            raise invalid(f"label {label!r} is not a valid DNS label")
        if label[2:4] == "--":
            if not label.lower().startswith("xn--"):
                raise invalid(f"label {label!r} has '--' in the 3rd and 4th position")
            try:
                idna.decode(label.lower())
            except (idna.IDNAError, UnicodeError) as e:
                raise invalid(str(e)) from e
        return label
    try:
        return idna.encode(label, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as e:
        raise invalid(str(e)) from e


def to_ace(raw: str) -> str:
    """The stored form of ``raw``; 400 with the reason when it is not a usable hostname."""
    hostname = raw.strip()
    if hostname.endswith("."):
        hostname = hostname[:-1]
    if not hostname:
        raise _fail("This field may not be blank.")
    if hostname == "*":
        raise _fail("Hostname can't only be a wildcard")
    labels = hostname.split(".")
    prefix = ""
    if labels[0] == "*":
        prefix, labels = "*.", labels[1:]
    ace = prefix + ".".join(_label(label, hostname) for label in labels)
    if labels[-1].isdigit():
        raise _fail("Hostname does not look valid.")
    if len(ace) > 253:
        raise _fail("Hostname must be 253 characters or less.")
    return ace
