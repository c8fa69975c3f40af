"""Names the builder derives from what a client sends: repository names, short shas, store keys.

Repository names come from an untrusted SSH command line; :func:`repo_name` is the only way in.
"""

from __future__ import annotations

import re

BUCKET = "builder"
ZERO_SHA = "0" * 40

_APP = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


class InvalidRepo(ValueError):
    """The requested repository name can never name an app."""


def repo_name(raw: str) -> str:
    """The app a ``git-*-pack '<repo>'`` argument names (spec §2.3).

    Quotes are removed, a leading ``/`` and a trailing ``.git`` stripped; empty names and names with
    ``..`` are refused, and so is anything that is not a valid app id (it could never match an app and
    must not reach a file path).
    """
    name = raw.strip().strip("'\"").lstrip("/")
    name = name.removesuffix(".git")
    if not name or ".." in name:
        raise InvalidRepo(f"invalid repository name {raw!r}")
    if not _APP.match(name) or len(name) > 63:
        raise InvalidRepo(f"invalid repository name {raw!r}")
    return name


def short_sha(sha: str) -> str:
    if not _SHA.match(sha):
        raise ValueError(f"not a full git revision: {sha!r}")
    return sha[:8]


def image_name(app: str, sha8: str) -> str:
    return f"{app}:git-{sha8}"


def source_key(app: str, sha8: str) -> str:
    return f"home/{image_name(app, sha8)}/tar"


def push_prefix(app: str, sha8: str) -> str:
    return f"home/{image_name(app, sha8)}/push"


def slug_key(app: str, sha8: str) -> str:
    return f"{push_prefix(app, sha8)}/slug.tgz"


def procfile_key(app: str, sha8: str) -> str:
    return f"{push_prefix(app, sha8)}/Procfile"


def rootfs_key(app: str, sha8: str) -> str:
    return f"{push_prefix(app, sha8)}/rootfs.tgz"


def image_rootfs_key(app: str, build_id: str) -> str:
    """Root filesystem of a pulled image (deis pull); under ``home/<app>/`` so it goes with the app."""
    return f"home/{app}/images/{build_id}/rootfs.tgz"


def cache_prefix(app: str) -> str:
    return f"home/{app}/cache"


def cache_key(app: str) -> str:
    return f"{cache_prefix(app)}/cache.tgz"
