"""The catalog of base backups: what a restore may choose from."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deis_backup import catalog
from deis_backup.catalog import BackupInfo
from deis_backup.errors import DamagedArchive
from deis_common.settings import StoreSettings
from deis_common.store import open_store


def test_a_damaged_catalog_entry_is_listed_and_never_skipped_over(tmp_path: Path) -> None:
    def info(name: str) -> BackupInfo:
        at = catalog.name_time(name)
        return BackupInfo(
            name=name,
            started_at=at,
            finished_at=at,
            size_bytes=1,
            raw_size_bytes=1,
            sha256="0" * 64,
            duration_seconds=0.1,
        )

    async def scenario() -> list[catalog.Entry]:
        async with open_store(StoreSettings(driver="fs", path=tmp_path / "store")) as store:
            older, newer = (
                catalog.new_name(datetime(2026, 1, 1, tzinfo=UTC)),
                catalog.new_name(datetime.now(UTC)),
            )
            await catalog.record(store, "database", info(older))
            await catalog.record(store, "database", info(newer))
            await store.put("database", catalog.meta_key(newer), b'{"name": "tampered"}')
            return await catalog.list_entries(store, "database")

    entries = asyncio.run(scenario())

    assert [entry.info is not None for entry in entries] == [True, False]
    assert "is corrupted" in str(entries[1].damaged)
    with pytest.raises(DamagedArchive, match="restore an older backup explicitly"):
        catalog.choose(entries)
    assert catalog.choose(entries, name=entries[0].name).name == entries[0].name
