"""Process names in Workflow's shape: ``<app>-<type>-<template hash>-<suffix>``, as Kubernetes names pods.

On Workflow a process is a pod of the Deployment ``<app>-<type>``: Kubernetes names it after the ReplicaSet
(its pod-template-hash, 8 to 10 decimal digits, the same for every pod of one release and type) plus five
random characters. Users and scripts read these names (``deis ps``, ``deis ps:restart web-123456789-x2b4z``),
so both backends and the controller follow them. The scheduler makes the names; the controller only expands
the short form a user may type (without the app).
"""

from __future__ import annotations

import hashlib
import re
import secrets

SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""Kubernetes' alphabet for generated name suffixes (no vowels, no look-alike digits)."""
SUFFIX_LENGTH = 5

# A pod-template-hash is a 32-bit number in decimal; the lowest eight-digit one keeps it 8 to 10 digits long.
_HASH_FLOOR = 10_000_000
_HASH_SPAN = 2**32 - _HASH_FLOOR

NAME_TAIL = re.compile(r"-(?P<hash>[0-9]{8,10})-(?P<suffix>[a-z0-9]{5})$")
"""The part of a process name after its type."""


def template_hash(template: str) -> str:
    """8-10 decimal digits standing for ``template`` (what a process runs): equal templates, equal hashes."""
    digest = int.from_bytes(hashlib.sha256(template.encode()).digest()[:8], "big")
    return str(_HASH_FLOOR + digest % _HASH_SPAN)


def suffix() -> str:
    """Five random characters, as Kubernetes appends to a pod's name."""
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))


def process_name(app: str, ptype: str, template: str) -> str:
    """A new process's name; ``template`` identifies what it runs (release, config, type...)."""
    return f"{app}-{ptype}-{template_hash(template)}-{suffix()}"


def full_name(app: str, name: str) -> str:
    """A process name as the user typed it, in short (``web-123456789-x2b4z``) or full form, in full."""
    if name.startswith(app + "-") and name.count("-") > 2:
        return name
    return f"{app}-{name}"
