"""Retention: old base backups go, and with them the WAL that only they needed."""

from __future__ import annotations

import asyncio

from conftest import Archive

from deis_backup import catalog, wal
from deis_common.store import open_store


def stored_state(archive: Archive) -> tuple[list[catalog.Entry], list[str]]:
    async def read() -> tuple[list[catalog.Entry], list[str]]:
        async with open_store(archive.store) as store:
            entries = await catalog.list_entries(store, "database")
            files = [wal_file.name for wal_file in await wal.list_files(store, "database")]
            return entries, files

    return asyncio.run(read())


def test_delete_keeps_the_newest_backups_and_the_wal_they_need(fs_archive: Archive) -> None:
    archive = fs_archive
    archive.sql("CREATE TABLE builds (id int)")
    for n in range(3):
        archive.backup("backup-push")
        archive.sql(f"INSERT INTO builds VALUES ({n})")
        archive.switch_and_wait_archived()
    entries, _ = stored_state(archive)
    oldest, kept = entries[0], entries[1:]

    deleted = archive.backup("delete", "--retain", "2")

    entries_after, wal_after = stored_state(archive)
    assert [entry.name for entry in entries_after] == [entry.name for entry in kept]
    assert deleted.stdout.startswith("deleted 1 base backup(s)")
    first_needed = kept[0].info.start_segment if kept[0].info else None
    assert first_needed is not None and first_needed in wal_after
    assert all(wal.position(name) >= wal.position(first_needed) for name in wal_after if wal.position(name))
    assert oldest.info is not None and oldest.info.start_segment not in wal_after
    listing = archive.backup("backup-list").stdout
    assert [line.split()[0] for line in listing.splitlines()[1:3]] == [entry.name for entry in kept]
    assert f"WAL archive: {len(wal_after)} file(s), latest {wal_after[-1]}" in listing


def test_a_point_in_time_before_the_oldest_backup_cannot_be_restored(fs_archive: Archive) -> None:
    archive = fs_archive
    archive.backup("backup-push")

    restored = archive.backup(
        "restore",
        "--data-dir",
        str(archive.root / "restored"),
        "--target-time",
        "2020-01-01T00:00:00Z",
        check=False,
    )

    assert restored.returncode == 1
    assert "no base backup finished before 2020-01-01T00:00:00+00:00" in restored.stderr
