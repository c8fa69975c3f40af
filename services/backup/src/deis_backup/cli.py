"""``deis-backup``: the backup service and the verbs Postgres and operators call.

Exit codes: 0 success; 1 failure (for ``wal-fetch``: the file is not archived, which tells Postgres the
replay is complete); 2 bad usage; 3 an object in the store is corrupted. ``wal-fetch`` exits 128 for
every failure other than "not archived" (a corrupted segment, a hole in the archive, an unreachable
store): Postgres treats an exit status above 125 from ``restore_command`` as fatal and stops the recovery,
instead of ending replay early and silently losing what came after.

Settings come from ``DEIS_*`` environment variables, or from ``--config FILE`` (an env file with the same
names) for the verbs Postgres runs with its own environment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deis_backup.errors import CorruptObject, DamagedArchive, NothingToRestore, WalGap
from deis_backup.server_user import grant_archive_access, server_user
from deis_backup.settings import BackupServiceSettings, load_settings
from deis_common.errors import DeisError, ObjectNotFound
from deis_common.store import open_store

# Postgres starts this tool once per WAL file, so the archive verbs import only what they use: the
# base backup, restore and service modules (and structlog) load in the verbs that need them.

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CORRUPT = 3
EXIT_ABORT_RECOVERY = 128


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; without a zone it is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r}: use ISO 8601, e.g. 2026-11-23T14:05:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deis-backup",
        description="Continuous archiving of the platform database to the object store, and restore.",
        epilog="Without a verb, runs the backup service.",
    )
    parser.add_argument("--config", type=Path, help="env file with DEIS_* settings (the environment wins)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.add_parser("serve", help="run the backup service (base backups on a timer, retention, events)")
    verbs.add_parser("init", help="create the bucket and let the Postgres server user archive into it")
    push = verbs.add_parser(
        "wal-push", help="archive one WAL file (archive_command = 'deis-backup wal-push %%p')"
    )
    push.add_argument("path", type=Path)
    fetch = verbs.add_parser(
        "wal-fetch", help="restore one WAL file (restore_command = 'deis-backup wal-fetch %%f %%p')"
    )
    fetch.add_argument("name")
    fetch.add_argument("dest", type=Path)
    verbs.add_parser("backup-push", help="take a base backup now")
    listing = verbs.add_parser("backup-list", help="list base backups, oldest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    rest = verbs.add_parser(
        "restore", help="restore the latest base backup (or the latest before --target-time) and replay WAL"
    )
    rest.add_argument(
        "--data-dir", "--pgdata", dest="data_dir", type=Path, required=True, help="empty data dir"
    )
    rest.add_argument(
        "--target-time", type=parse_time, help="recover to this time (ISO 8601; UTC if no zone)"
    )
    rest.add_argument("--backup", help="restore this base backup (a name from backup-list)")
    rest.add_argument("--no-replay", action="store_true", help="only unpack the base backup")
    verbs.add_parser("verify", help="check the latest base backup and the WAL after it, without restoring")
    delete = verbs.add_parser("delete", help="delete old base backups and the WAL only they need")
    delete.add_argument("--retain", type=int, help="base backups to keep (default DEIS_BACKUP__RETAIN)")
    return parser


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # As restore_command, even a misconfiguration must stop the recovery: an ordinary failure would
    # tell Postgres "no more WAL" and it would promote a database missing everything after the backup.
    fetching = "wal-fetch" in argv
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:
        if fetching and e.code not in (0, None):
            return EXIT_ABORT_RECOVERY
        raise
    verb = args.verb or "serve"
    try:
        settings = load_settings(args.config)
    except (OSError, ValueError) as e:
        print(f"deis-backup: invalid settings: {e}", file=sys.stderr)
        return EXIT_ABORT_RECOVERY if fetching else EXIT_USAGE
    if verb == "serve":
        _configure_logging(settings.log_level, as_json=settings.log_json)
        asyncio.run(_serve(settings))
        return 0
    if verb not in ("wal-push", "wal-fetch"):
        _configure_logging("warning", as_json=settings.log_json)
    action = _VERBS[verb]
    try:
        asyncio.run(action(settings, args))
    except NothingToRestore as e:
        if verb == "restore" and args.target_time is None and args.backup is None:
            print(f"deis-backup: {e}: nothing restored", file=sys.stderr)
            return 0
        return _fail(verb, e, EXIT_FAILED)
    except ObjectNotFound as e:
        if verb == "wal-fetch":
            return EXIT_FAILED  # not archived: the normal end of replay, nothing to report
        return _fail(verb, e, EXIT_FAILED)
    except (CorruptObject, DamagedArchive) as e:
        return _fail(verb, e, EXIT_ABORT_RECOVERY if verb == "wal-fetch" else EXIT_CORRUPT)
    except (DeisError, OSError) as e:
        return _fail(verb, e, EXIT_ABORT_RECOVERY if verb == "wal-fetch" else EXIT_FAILED)
    except Exception:
        if verb != "wal-fetch":
            raise
        traceback.print_exc()
        return EXIT_ABORT_RECOVERY
    return 0


def _configure_logging(level: str, *, as_json: bool) -> None:
    from deis_common.logconfig import configure_logging

    configure_logging(level, json=as_json)


def _fail(verb: str, error: BaseException, code: int) -> int:
    print(f"deis-backup {verb}: error: {error}", file=sys.stderr)
    return code


async def _serve(settings: BackupServiceSettings) -> None:
    from deis_backup.service import build

    service = build(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.request_stop)
    await service.run()


Verb = Callable[[BackupServiceSettings, argparse.Namespace], Coroutine[Any, Any, None]]


async def _init(settings: BackupServiceSettings, _: argparse.Namespace) -> None:
    backup = settings.backup
    wal_dir = grant_archive_access(settings.store, backup.bucket, server_user(backup.server_user))
    async with open_store(settings.store) as store:
        await store.ensure_bucket(backup.bucket)
    if wal_dir is not None:
        print(f"WAL archive {wal_dir} is writable by {server_user(backup.server_user)}")


async def _wal_push(settings: BackupServiceSettings, args: argparse.Namespace) -> None:
    from deis_backup import wal

    backup = settings.backup
    async with open_store(settings.store) as store:
        await wal.push(store, backup.bucket, args.path, level=backup.compression_level)


async def _wal_fetch(settings: BackupServiceSettings, args: argparse.Namespace) -> None:
    from deis_backup import wal

    async with open_store(settings.store) as store:
        await wal.fetch(store, settings.backup.bucket, args.name, args.dest)


async def _backup_push(settings: BackupServiceSettings, _: argparse.Namespace) -> None:
    from deis_backup import basebackup

    backup = settings.backup
    async with open_store(settings.store) as store:
        info = await basebackup.take(
            store,
            backup.bucket,
            settings.database.url,
            password=settings.database.password_or_none(),
            level=backup.compression_level,
            timeout=backup.basebackup_timeout,
        )
    print(f"base backup {info.name}: {info.size_bytes} bytes in {info.duration_seconds:.1f}s")


async def _backup_list(settings: BackupServiceSettings, args: argparse.Namespace) -> None:
    from deis_backup import catalog, wal

    async with open_store(settings.store) as store:
        entries = await catalog.list_entries(store, settings.backup.bucket)
        wal_files = await wal.list_files(store, settings.backup.bucket)
    if args.json:
        for entry in entries:
            if entry.info is not None:
                print(entry.info.model_dump_json())
            else:
                print(json.dumps({"name": entry.name, "damaged": entry.damaged}))
        return
    if not entries:
        print("no base backups")
    else:
        print(f"{'NAME':<26} {'FINISHED (UTC)':<20} {'SIZE':>12} {'START SEGMENT':<24}")
    for entry in entries:
        if entry.info is None:
            print(f"{entry.name:<26} DAMAGED: {entry.damaged}")
            continue
        info = entry.info
        finished = info.finished_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{info.name:<26} {finished:<20} {info.size_bytes:>12} {info.start_segment or '-':<24}")
    latest = f", latest {wal_files[-1].name}" if wal_files else ""
    print(f"\nWAL archive: {len(wal_files)} file(s){latest}")


async def _restore(settings: BackupServiceSettings, args: argparse.Namespace) -> None:
    from deis_backup.recovery import self_command
    from deis_backup.restore import RestoreRequest, restore

    backup = settings.backup
    request = RestoreRequest(
        data_dir=args.data_dir.absolute(),
        scratch_dir=backup.data_dir,
        target_time=args.target_time,
        backup_name=args.backup,
        replay=not args.no_replay,
        command=self_command(args.config),
        user=server_user(backup.server_user),
        recovery_timeout=backup.recovery_timeout,
    )
    grant_archive_access(settings.store, backup.bucket, request.user)
    async with open_store(settings.store) as store:
        info = await restore(store, backup.bucket, request)
    target = f" up to {args.target_time.isoformat()}" if args.target_time else ""
    print(f"restored base backup {info.name} into {request.data_dir}{target}")


async def _delete(settings: BackupServiceSettings, args: argparse.Namespace) -> None:
    from deis_backup import catalog

    retain = args.retain if args.retain is not None else settings.backup.retain
    if retain < 1:
        raise DeisError("--retain must be at least 1")
    async with open_store(settings.store) as store:
        pruned = await catalog.prune(store, settings.backup.bucket, retain)
    print(f"deleted {len(pruned.backups)} base backup(s) and {pruned.wal_files} WAL file(s); kept {retain}")


async def _verify(settings: BackupServiceSettings, _: argparse.Namespace) -> None:
    from deis_backup.verify import verify_latest

    async with open_store(settings.store) as store:
        report = await verify_latest(store, settings.backup.bucket)
    for problem in [*report.corrupted, *report.gaps]:
        print(f"problem: {problem}")
    if report.corrupted:
        raise DamagedArchive(f"{len(report.corrupted)} of {report.checked} objects failed verification")
    if report.gaps:
        raise WalGap(f"the WAL archive after base backup {report.backup} has {len(report.gaps)} hole(s)")
    print(f"base backup {report.backup} and the WAL after it: {report.checked} objects verified")


_VERBS: dict[str, Verb] = {
    "init": _init,
    "wal-push": _wal_push,
    "wal-fetch": _wal_fetch,
    "backup-push": _backup_push,
    "backup-list": _backup_list,
    "restore": _restore,
    "delete": _delete,
    "verify": _verify,
}
