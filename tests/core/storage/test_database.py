"""The database file: migrations in place, clear errors, nothing overwritten."""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from peerbot.core.storage import Database, DatabaseError
from peerbot.core.storage.migrations import MIGRATIONS
from tests.db_faults import corrupt_database, write_database


async def test_new_database_is_migrated_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "data" / "peerbot.sqlite3")
    try:
        assert await database.schema_version() == len(MIGRATIONS)
        assert (await database.fetch_one("PRAGMA journal_mode"))[0] == "wal"
        assert (await database.fetch_one("PRAGMA foreign_keys"))[0] == 1
    finally:
        await database.close()


async def test_old_database_is_upgraded_in_place_keeping_rows(tmp_path: Path) -> None:
    path = tmp_path / "peerbot.sqlite3"
    first = await Database.open(path, migrations=MIGRATIONS[:1])
    await first.execute(
        "INSERT INTO unanswered_question (question, outcome, asked_at) VALUES (?, ?, ?)",
        ("q", "declined", "t"),
    )
    await first.close()
    extra = (*MIGRATIONS, "CREATE TABLE later_feature (id INTEGER PRIMARY KEY);")
    upgraded = await Database.open(path, migrations=extra)
    try:
        assert await upgraded.schema_version() == len(extra)
        assert (await upgraded.fetch_one("SELECT question FROM unanswered_question"))[0] == "q"
    finally:
        await upgraded.close()


async def test_failed_migration_leaves_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "peerbot.sqlite3"
    await (await Database.open(path)).close()
    with pytest.raises(DatabaseError):
        await Database.open(path, migrations=(*MIGRATIONS, "CREATE TABLE x (id INTEGER); THIS IS NOT SQL;"))
    reopened = await Database.open(path)
    try:
        assert await reopened.schema_version() == len(MIGRATIONS)
        assert await reopened.fetch_one("SELECT name FROM sqlite_master WHERE name = 'x'") is None
    finally:
        await reopened.close()


async def test_corrupt_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "peerbot.sqlite3"
    garbage = b"this is not a database, it is a letter" * 200
    path.write_bytes(garbage)
    with pytest.raises(DatabaseError, match="cannot use the database"):
        await Database.open(path)
    assert path.read_bytes() == garbage


async def test_directory_in_place_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "peerbot.sqlite3"
    path.mkdir()
    with pytest.raises(DatabaseError, match="is not a file"):
        await Database.open(path)


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "peerbot.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(DatabaseError, match="newer than this PeerBot"):
        await Database.open(path)


async def test_failed_transaction_rolls_back(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "db.sqlite3")
    try:
        with pytest.raises(sqlite3.IntegrityError):
            async with database.transaction() as connection:
                insert = "INSERT INTO unanswered_question (question, outcome, asked_at) VALUES (?, ?, 't')"
                await connection.execute(insert, ("a", "declined"))
                await connection.execute(insert, ("b", "nonsense"))
        assert (await database.fetch_one("SELECT COUNT(*) FROM unanswered_question"))[0] == 0
    finally:
        await database.close()


# -- bad files: refused at start, before anything is changed -----------------------------------------------


async def test_a_corrupt_inner_page_is_refused_at_start_and_left_alone(tmp_path: Path) -> None:
    """A damaged page used to pass the start and fail later, inside a command (quick_check finds it)."""
    path = tmp_path / "peerbot.sqlite3"
    damaged = corrupt_database(path)
    with pytest.raises(DatabaseError) as refused:
        await Database.open(path)
    message = str(refused.value)
    assert "is damaged" in message and str(path) in message and "\n" not in message
    assert path.read_bytes() == damaged
    assert not path.with_name(path.name + "-wal").exists()


async def test_a_newer_schema_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """The README promises the file is left untouched: it used to be switched to WAL first."""
    path = tmp_path / "peerbot.sqlite3"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE from_the_future (id INTEGER PRIMARY KEY)")
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
        connection.commit()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="newer than this PeerBot"):
        await Database.open(path)
    assert path.read_bytes() == before  # the header's journal mode bytes too
    assert os.listdir(tmp_path) == ["peerbot.sqlite3"]  # no -wal, no -shm
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


async def test_an_empty_file_starts_fresh_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "peerbot.sqlite3"
    path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="peerbot.core.storage.database"):
        database = await Database.open(path)
    try:
        assert await database.schema_version() == len(MIGRATIONS)
    finally:
        await database.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "is empty (0 bytes)" in warnings[0] and str(path) in warnings[0]


async def test_a_good_existing_database_opens_without_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "peerbot.sqlite3"
    write_database(path, rows=50)
    with caplog.at_level(logging.WARNING):
        database = await Database.open(path)
    try:
        assert (await database.fetch_one("SELECT COUNT(*) FROM unanswered_question"))[0] == 50
        assert (await database.fetch_one("PRAGMA journal_mode"))[0] == "wal"
    finally:
        await database.close()
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
