"""The OS user the Postgres server runs as, and what it must be able to reach.

Postgres refuses to run as root, so when the platform (or a test) is root the server runs as the
unprivileged ``embedded_postgres`` user (see ``deis_common.pgserver``). Two things follow for the backup
tool: a restored data directory must belong to that user, and with the ``fs`` store the server's
``archive_command`` (``deis-backup wal-push``, running as that user) must be able to write the WAL area of
the ``database`` bucket. This module owns both; as a non-root user it does nothing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import sys
from pathlib import Path

from deis_backup import wal
from deis_backup.errors import BackupError
from deis_common.settings import StoreSettings

DEFAULT_USER = "embedded_postgres"


def server_user(configured: str | None) -> str | None:
    """The user to hand files to when root: ``configured``, else ``embedded_postgres`` if that user exists.

    None means "ourselves": not root, or root on a host where Postgres is not run by us (cluster mode).
    """
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(configured or DEFAULT_USER)
    except KeyError:
        if configured is None:
            return None
        raise BackupError(f"the Postgres server user {configured!r} does not exist") from None
    return configured or DEFAULT_USER


def make_traversable(path: Path) -> None:
    """Let other users reach ``path``: add search permission on it and each ancestor.

    For the group too: a server started with only its uid switched keeps gid 0, and then the group bits
    (not the "other" bits) decide whether it may pass through root's directories.
    """
    for ancestor in [path, *path.parents]:
        mode = ancestor.stat().st_mode
        if (mode & (stat.S_IXOTH | stat.S_IXGRP)) != (stat.S_IXOTH | stat.S_IXGRP):
            ancestor.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)


def chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def make_interpreter_reachable() -> None:
    """Let the server user run ``deis-backup``: the interpreter and the virtualenv may live under /root."""
    make_traversable(Path(sys.executable).parent)
    make_traversable(Path(os.path.realpath(sys.executable)).parent)


def grant_archive_access(store: StoreSettings, bucket: str, user: str | None) -> Path | None:
    """Let the server user run ``deis-backup`` and, with the fs store, write the bucket's WAL area.

    Returns the WAL directory when one was handed over.
    """
    if user is None:
        return None
    make_interpreter_reachable()
    if store.driver != "fs":
        return None
    bucket_dir: Path = store.path / bucket
    wal_dir = bucket_dir / wal.WAL_PREFIX.rstrip("/")
    wal_dir.mkdir(parents=True, exist_ok=True)
    # The bucket directory too: the fs store prunes empty directories, so the server may recreate wal/.
    for directory in (bucket_dir, wal_dir):
        shutil.chown(directory, user, user)
        directory.chmod(0o755)
    make_traversable(bucket_dir)
    return wal_dir
