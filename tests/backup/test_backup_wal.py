"""The archive verbs as Postgres calls them: what each exit code tells the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deis_backup.cli import run

SEGMENT_1 = "000000010000000000000001"
SEGMENT_2 = "000000010000000000000002"
SEGMENT_3 = "000000010000000000000003"


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "backup.env"
    path.write_text(f"DEIS_STORE__DRIVER=fs\nDEIS_STORE__PATH={tmp_path / 'store'}\n")
    yield path


def wal_file(directory: Path, name: str, content: bytes) -> Path:
    path = directory / name
    path.write_bytes(content)
    return path


def deis_backup(config: Path, *args: str) -> int:
    return run(["--config", str(config), *args])


def test_a_pushed_wal_file_is_fetched_back_byte_for_byte(config: Path, tmp_path: Path) -> None:
    content = bytes(range(256)) * 4096 + b"\0" * 8192
    assert deis_backup(config, "wal-push", str(wal_file(tmp_path, SEGMENT_1, content))) == 0

    assert deis_backup(config, "wal-fetch", SEGMENT_1, str(tmp_path / "RECOVERYXLOG")) == 0
    assert (tmp_path / "RECOVERYXLOG").read_bytes() == content


def test_fetching_a_file_that_was_never_archived_exits_1_without_complaint(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deis_backup(config, "wal-fetch", "00000002.history", str(tmp_path / "RECOVERYHISTORY")) == 1
    assert deis_backup(config, "wal-fetch", SEGMENT_1, str(tmp_path / "RECOVERYXLOG")) == 1
    assert capsys.readouterr().err == ""
    assert not (tmp_path / "RECOVERYXLOG").exists()


def test_a_hole_in_the_archive_aborts_recovery_instead_of_ending_it_early(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deis_backup(config, "wal-push", str(wal_file(tmp_path, SEGMENT_1, b"first")))
    deis_backup(config, "wal-push", str(wal_file(tmp_path, SEGMENT_3, b"third")))

    assert deis_backup(config, "wal-fetch", SEGMENT_2, str(tmp_path / "RECOVERYXLOG")) == 128
    assert f"later segment {SEGMENT_3}" in capsys.readouterr().err


def test_pushing_the_same_file_again_succeeds_but_different_contents_are_refused(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deis_backup(config, "wal-push", str(wal_file(tmp_path, SEGMENT_1, b"original"))) == 0
    assert deis_backup(config, "wal-push", str(wal_file(tmp_path, SEGMENT_1, b"original"))) == 0

    assert deis_backup(config, "wal-push", str(wal_file(tmp_path, SEGMENT_1, b"rewritten"))) == 1
    assert "already archived with different contents" in capsys.readouterr().err
    deis_backup(config, "wal-fetch", SEGMENT_1, str(tmp_path / "RECOVERYXLOG"))
    assert (tmp_path / "RECOVERYXLOG").read_bytes() == b"original"


def test_a_name_that_is_not_a_wal_file_is_refused(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deis_backup(config, "wal-fetch", "../../etc/passwd", str(tmp_path / "x")) == 128
    assert "is not the name of a WAL file" in capsys.readouterr().err


def test_a_missing_config_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--config", str(tmp_path / "nope.env"), "backup-list"]) == 2
    assert "nope.env does not exist" in capsys.readouterr().err


def test_verification_finds_a_hole_in_a_timeline_of_archived_segments() -> None:
    from deis_backup.verify import find_gaps

    assert find_gaps([SEGMENT_1, SEGMENT_2, SEGMENT_3]) == []
    assert find_gaps([SEGMENT_1, SEGMENT_3]) == [f"{SEGMENT_2}..{SEGMENT_3} missing (after {SEGMENT_1})"]
    # a new timeline starts at its fork point: no hole before it
    assert find_gaps([SEGMENT_1, SEGMENT_2, "000000020000000000000002", "000000020000000000000003"]) == []


def test_a_misconfigured_restore_command_stops_the_recovery_instead_of_ending_it(tmp_path: Path) -> None:
    # `restore_command = 'deis-backup wal-fetch %f'` (no %p) or a settings file the server cannot read
    assert run(["wal-fetch", SEGMENT_1]) == 128
    assert (
        run(["--config", str(tmp_path / "unreadable.env"), "wal-fetch", SEGMENT_1, "pg_wal/RECOVERYXLOG"])
        == 128
    )
