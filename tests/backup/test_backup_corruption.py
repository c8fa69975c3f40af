"""A damaged object in the store is detected, reported, and never restored."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from conftest import Archive

from deis_backup import catalog, wal
from deis_common.store import open_store

CORRUPTED_EXIT = 3


def flip_a_byte(archive: Archive, key: str) -> None:
    """Damage one object in place, the way bit rot or a bad copy would (its checksum sidecar stays)."""

    async def damage() -> None:
        async with open_store(archive.store) as store:
            data = bytearray(await store.get("database", key))
            data[len(data) // 2] ^= 0xFF
            await store.put("database", key, bytes(data))

    asyncio.run(damage())


def only_backup_name(archive: Archive) -> str:
    listed = [json.loads(line) for line in archive.backup("backup-list", "--json").stdout.splitlines()]
    assert len(listed) == 1, listed
    return str(listed[0]["name"])


def test_a_corrupted_wal_segment_fails_the_restore_and_names_the_segment(fs_archive: Archive) -> None:
    archive = fs_archive
    archive.sql("CREATE TABLE keys (fingerprint text)")
    archive.backup("backup-push")
    archive.sql("INSERT INTO keys VALUES ('aa:bb'), ('cc:dd')")
    segment = archive.switch_and_wait_archived()
    assert archive.backup("verify").returncode == 0
    flip_a_byte(archive, wal.wal_key(segment))

    verified = archive.backup("verify", check=False)
    assert verified.returncode == CORRUPTED_EXIT
    assert f"problem: object database/{wal.wal_key(segment)} is corrupted" in verified.stdout

    with tempfile.TemporaryDirectory() as scratch:
        fetched = archive.backup("wal-fetch", segment, str(Path(scratch) / "segment"), check=False)
        assert fetched.returncode == 128  # above 125: Postgres aborts recovery instead of stopping early
        assert "corrupted" in fetched.stderr and segment in fetched.stderr
        assert not (Path(scratch) / "segment").exists()

    archive.lose_data_directory()
    restored = archive.backup("restore", "--data-dir", str(archive.data_dir), check=False)
    assert restored.returncode != 0
    assert f"{segment}.gz is corrupted" in restored.stderr
    assert not (archive.data_dir / "PG_VERSION").exists()


def test_a_corrupted_base_backup_is_refused_before_anything_is_restored(archive: Archive) -> None:
    archive.sql("CREATE TABLE users (name text)")
    archive.backup("backup-push")
    flip_a_byte(archive, catalog.data_key(only_backup_name(archive)))
    target = archive.root / "restored"

    restored = archive.backup("restore", "--data-dir", str(target), check=False)

    assert restored.returncode == CORRUPTED_EXIT
    assert "base.tar.gz is corrupted" in restored.stderr
    assert "does not match the recorded" in restored.stderr
    assert list(target.iterdir()) == []
