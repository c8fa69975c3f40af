"""The restore contract the platform launcher relies on, and settings as operators write them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import DEIS_BACKUP

from deis_backup.cli import run
from deis_backup.settings import BackupServiceSettings


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "backup.env"
    path.write_text(
        f"DEIS_STORE__DRIVER=fs\nDEIS_STORE__PATH={tmp_path / 'store'}\n"
        f"DEIS_BACKUP__DATA_DIR={tmp_path / 'scratch'}\n"
    )
    return path


def deis_backup(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # A process of its own: the restore verb configures logging for the whole process.
    return subprocess.run(
        [str(DEIS_BACKUP), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_restore_with_no_backups_succeeds_and_leaves_the_data_directory_for_initdb(
    config: Path, tmp_path: Path
) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()

    restored = deis_backup(config, "restore", "--pgdata", str(pgdata))

    assert restored.returncode == 0
    assert "no base backup in the store: nothing restored" in restored.stderr
    assert list(pgdata.iterdir()) == []


def test_restore_refuses_a_data_directory_that_holds_a_database(config: Path, tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("18\n")

    restored = deis_backup(config, "restore", "--data-dir", str(pgdata))

    assert restored.returncode == 1
    assert f"data directory {pgdata} is not empty" in restored.stderr
    assert (pgdata / "PG_VERSION").read_text() == "18\n"


def test_an_unparseable_target_time_is_a_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["--config", str(config), "restore", "--data-dir", "/tmp/x", "--target-time", "yesterday"])
    assert exited.value.code == 2
    assert "invalid time 'yesterday'" in capsys.readouterr().err


def test_backup_frequency_reads_like_a_duration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEIS_BACKUP__FREQUENCY", "1h30m")
    monkeypatch.setenv("DEIS_BACKUP__RETAIN", "7")

    settings = BackupServiceSettings()

    assert settings.backup.frequency == 5400
    assert settings.backup.retain == 7


def test_a_nonsense_frequency_is_refused_with_the_accepted_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEIS_BACKUP__FREQUENCY", "often")

    with pytest.raises(ValueError, match=r"use e\.g\. '4h', '30m'"):
        BackupServiceSettings()


def test_the_help_lists_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["--help"])
    words = capsys.readouterr().out.split()
    for verb in ("serve", "wal-push", "wal-fetch", "backup-push", "backup-list", "restore", "delete"):
        assert verb in words
