"""The unprivileged OS user that Dockerfile builds and image pulls run buildah as.

A builder running as root never runs buildah as root. It runs it as a dedicated system user
(``deis-build`` by default). Rootless buildah maps that user to uid 0 inside a user namespace, and the
image's other uids to the user's subordinate range (``/etc/subuid``, ``/etc/subgid``, set up by
``newuidmap``/``newgidmap`` from Debian's ``uidmap``). A Dockerfile ``RUN`` step is then root only inside
that namespace. On the host it is the build user, which owns nothing but buildah's own area.

This module creates the user and its ranges when they are missing. Creation is idempotent and a lock
file serialises it between builder processes. An existing user or range is never changed. A builder
that does not run as root is already such a user, and buildah runs as that user.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog

from deis_common.errors import DeisError

log = structlog.get_logger(__name__)

HOME = Path("/var/lib/deis-build")
SUBID_FIRST = 100_000
SUBID_COUNT = 65_536  # every uid an image may use, up to nobody (65534)
SUBID_LAST = 600_100_000  # login.defs' SUB_UID_MAX
SUBUID = Path("/etc/subuid")
SUBGID = Path("/etc/subgid")


class BuildUserError(DeisError):
    """The build user cannot be created or given its subordinate ids."""


@dataclass(frozen=True)
class BuildUser:
    name: str
    uid: int
    gid: int

    @property
    def is_this_process(self) -> bool:
        return self.uid == os.geteuid()


def this_process() -> BuildUser:
    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a container's arbitrary uid
        name = str(os.geteuid())
    return BuildUser(name, os.geteuid(), os.getegid())


def resolve(name: str) -> BuildUser:
    """The user buildah runs as: ``name`` (created if missing) for a root builder, else the builder's own.

    Blocking (useradd, usermod): call it in a thread.
    """
    if os.geteuid() != 0:
        return this_process()
    with _lock():
        user = _existing(name) or _create(name)
        if user.uid == 0:
            raise BuildUserError(f"the build user {name} is root; builds must not run as root")
        missing = [path for path in (SUBUID, SUBGID) if not _has_range(path, user)]
        if missing:
            _add_range(user, missing)
    if shutil.which("newuidmap") is None:
        log.warning("builduser.no_newuidmap", hint="install uidmap: without it images get one uid only")
    return user


def free_range(taken: list[tuple[int, int]], count: int = SUBID_COUNT) -> int:
    """The lowest start (from :data:`SUBID_FIRST`, in steps of ``count``) of ``count`` ids that overlap
    none of the ``(start, count)`` ranges in ``taken``."""
    start = SUBID_FIRST
    while start + count - 1 <= SUBID_LAST:
        if all(start + count <= first or first + size <= start for first, size in taken):
            return start
        start += count
    raise BuildUserError("no free subordinate id range is left in /etc/subuid and /etc/subgid")


def parse_ranges(text: str) -> list[tuple[str, int, int]]:
    """``(user name or uid, start, count)`` of each well-formed ``/etc/subuid`` line."""
    ranges = []
    for line in text.splitlines():
        owner, _, rest = line.strip().partition(":")
        start, _, count = rest.partition(":")
        if owner and start.isdigit() and count.isdigit():
            ranges.append((owner, int(start), int(count)))
    return ranges


def _ranges(path: Path) -> list[tuple[str, int, int]]:
    try:
        return parse_ranges(path.read_text())
    except FileNotFoundError:
        return []


def _has_range(path: Path, user: BuildUser) -> bool:
    return any(owner in (user.name, str(user.uid)) for owner, _, _ in _ranges(path))


def _existing(name: str) -> BuildUser | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return BuildUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _create(name: str) -> BuildUser:
    _run(
        "useradd", "--system", "--user-group", "--home-dir", str(HOME), "--no-create-home",
        "--shell", "/usr/sbin/nologin", "--comment", "Deis builds (rootless buildah)", name,
    )  # fmt: skip
    user = _existing(name)
    if user is None:
        raise BuildUserError(f"useradd did not create the build user {name}")
    log.info("builduser.created", user=name, uid=user.uid)
    return user


def _add_range(user: BuildUser, files: list[Path]) -> None:
    taken = [(start, count) for path in (SUBUID, SUBGID) for _, start, count in _ranges(path)]
    start = free_range(taken)
    span = f"{start}-{start + SUBID_COUNT - 1}"
    flags = []
    if SUBUID in files:
        flags += ["--add-subuids", span]
    if SUBGID in files:
        flags += ["--add-subgids", span]
    _run("usermod", *flags, user.name)
    log.info("builduser.subids_added", user=user.name, ids=span)


def _run(*argv: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError as e:
        raise BuildUserError(f"cannot run {argv[0]}: {e}") from e
    if done.returncode != 0:
        raise BuildUserError(f"{argv[0]} failed: {(done.stderr or done.stdout).strip()[-300:]}")


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """An exclusive lock shared by every builder process on this host (useradd races with itself)."""
    directory = next((d for d in (Path("/run/lock"), Path("/run")) if d.is_dir()), None)
    path = (directory or Path(tempfile.gettempdir())) / "deis-build-user.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
