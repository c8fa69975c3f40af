"""The settings the launcher adds to postgresql.conf, archiving included."""

from __future__ import annotations

from pathlib import Path

from deis_platform.postgres import archive_settings, write_config


def test_archiving_is_off_unless_asked_for() -> None:
    settings = archive_settings(enabled=False, wal_push_command="deis-backup wal-push %p")

    assert settings["archive_mode"] == "off"
    assert settings["archive_command"] == ""


def test_archiving_pushes_each_segment_through_deis_backup_at_least_every_minute() -> None:
    settings = archive_settings(enabled=True, wal_push_command="/venv/bin/deis-backup wal-push %p")

    assert settings == {
        "archive_mode": "on",
        "archive_command": "/venv/bin/deis-backup wal-push %p",
        "archive_timeout": "60",
    }


def test_the_platform_settings_are_included_once_and_rewritten_each_time(tmp_path: Path) -> None:
    (tmp_path / "postgresql.conf").write_text("max_connections = 100\n")

    write_config(tmp_path, {"archive_mode": "on"})
    write_config(tmp_path, {"archive_mode": "off", "archive_command": "it's quoted"})

    assert (tmp_path / "postgresql.conf").read_text().count("include_if_exists = 'deis.conf'") == 1
    ours = (tmp_path / "deis.conf").read_text()
    assert "listen_addresses = '127.0.0.1'" in ours
    assert "archive_mode = 'off'" in ours
    assert "archive_command = 'it''s quoted'" in ours
