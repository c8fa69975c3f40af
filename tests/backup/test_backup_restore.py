"""Backup and restore of a real Postgres through both store drivers: the disaster-recovery promise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import Archive


def test_restore_brings_back_every_row_archived_before_the_data_directory_was_lost(archive: Archive) -> None:
    archive.sql("CREATE TABLE apps (id serial PRIMARY KEY, name text NOT NULL)")
    archive.sql("INSERT INTO apps (name) SELECT 'before-' || n FROM generate_series(1, 50) AS n")
    archive.backup("backup-push")
    archive.sql("INSERT INTO apps (name) SELECT 'after-' || n FROM generate_series(1, 50) AS n")
    archive.switch_and_wait_archived()

    archive.lose_data_directory()
    restored = archive.backup("restore", "--data-dir", str(archive.data_dir))
    archive.restart_on_restored_data()

    assert "restored base backup" in restored.stdout
    assert archive.sql("SELECT count(*) FROM apps WHERE name LIKE 'before-%'") == "50"
    assert archive.sql("SELECT count(*) FROM apps WHERE name LIKE 'after-%'") == "50"
    # the restored database is a primary again: it takes writes
    archive.sql("INSERT INTO apps (name) VALUES ('after-restore')")
    assert archive.sql("SELECT pg_is_in_recovery()") == "f"


def test_point_in_time_restore_keeps_the_first_write_and_drops_the_second(fs_archive: Archive) -> None:
    archive = fs_archive
    archive.sql("CREATE TABLE releases (version int PRIMARY KEY)")
    archive.backup("backup-push")
    archive.sql("INSERT INTO releases VALUES (1)")
    between = archive.sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
    archive.sql("INSERT INTO releases VALUES (2)")
    archive.switch_and_wait_archived()

    archive.lose_data_directory()
    # as the platform launcher runs it: settings in the environment, `--pgdata`
    archive.backup(
        "restore", "--pgdata", str(archive.data_dir), "--target-time", between, from_environment=True
    )
    archive.restart_on_restored_data()

    assert archive.sql("SELECT string_agg(version::text, ',') FROM releases") == "1"


def test_a_database_restored_to_a_point_in_time_survives_a_second_disaster(fs_archive: Archive) -> None:
    archive = fs_archive
    archive.sql("CREATE TABLE domains (name text)")
    archive.backup("backup-push")
    archive.sql("INSERT INTO domains VALUES ('kept.example.com')")
    between = archive.sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
    archive.sql("INSERT INTO domains VALUES ('undone.example.com')")
    archive.switch_and_wait_archived()
    archive.lose_data_directory()
    archive.backup("restore", "--data-dir", str(archive.data_dir), "--target-time", between)
    archive.restart_on_restored_data()
    archive.sql("INSERT INTO domains VALUES ('added-after-the-restore.example.com')")
    archive.switch_and_wait_archived()

    archive.lose_data_directory()
    archive.backup("restore", "--data-dir", str(archive.data_dir))
    archive.restart_on_restored_data()

    assert archive.sql("SELECT string_agg(name, ',' ORDER BY name) FROM domains") == (
        "added-after-the-restore.example.com,kept.example.com"
    )


def test_a_target_time_beyond_the_archive_fails_and_says_where_the_archive_ends(fs_archive: Archive) -> None:
    archive = fs_archive
    archive.sql("CREATE TABLE certs (name text)")
    archive.backup("backup-push")
    archive.sql("INSERT INTO certs VALUES ('www')")
    archive.switch_and_wait_archived()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    target = archive.root / "restored"

    restored = archive.backup("restore", "--data-dir", str(target), "--target-time", future, check=False)

    assert restored.returncode == 1
    assert "the archive ends before" in restored.stderr
    assert "restore without --target-time" in restored.stderr
    assert list(target.iterdir()) == []
