"""The labels of the one node the embedded platform runs apps on (what ``tags:set`` is checked against).

In a cluster every node carries labels and Workflow's controller refused tags that no node has. On one
machine the node is this machine: it gets the labels Kubernetes gives every node
(``kubernetes.io/hostname``, ``kubernetes.io/os``, ``kubernetes.io/arch``) plus those given with
``deis-platform up --label k=v``. The given
ones are recorded in the state file and kept by every later ``up`` until another ``--label`` replaces them
or ``--no-labels`` forgets them. The controller learns the result through ``DEIS_NODE_LABELS``.

Pure functions of their inputs, except :func:`default_labels`, which asks the machine.
"""

from __future__ import annotations

import platform
import re
import socket

# Kubernetes' label syntax: an optional DNS-subdomain prefix and "/", a name; values like names or empty
_NAME = re.compile(r"^([A-Za-z0-9][-.\w]{0,61})?[A-Za-z0-9]$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class LabelError(ValueError):
    """A ``--label`` that is not ``key=value`` with Kubernetes' label syntax."""


def parse_label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise LabelError(f"label {text!r} must look like key=value")
    prefix, _, name = key.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _PREFIX.match(prefix))) or not _NAME.match(name):
        raise LabelError(f"label key {key!r} must be name or prefix/name (alphanumeric, '-', '_', '.')")
    if value and not _NAME.match(value):
        raise LabelError(f"label value {value!r} must be alphanumeric, '-', '_', '.', up to 63 characters")
    return key, value


def parse_labels(texts: list[str]) -> dict[str, str]:
    return dict(parse_label(text) for text in texts)


def default_labels() -> dict[str, str]:
    """The labels Kubernetes puts on every node, for this machine (those it can express)."""
    labels = {"kubernetes.io/os": "linux"}
    arch = _ARCH.get(platform.machine().lower())
    if arch:
        labels["kubernetes.io/arch"] = arch
    hostname = socket.gethostname().split(".")[0].lower()
    if _NAME.match(hostname):
        labels["kubernetes.io/hostname"] = hostname
    return labels


def chosen_labels(recorded: dict[str, str], given: list[str] | None, *, forget: bool) -> dict[str, str]:
    """The user's labels after this ``up``: the given ones, none (``--no-labels``), or the recorded ones."""
    if forget:
        return {}
    if given:
        return parse_labels(given)
    return dict(recorded)


def node_labels(user: dict[str, str]) -> dict[str, str]:
    """Everything the node carries: the defaults, overridden by the user's labels."""
    return {**default_labels(), **user}
