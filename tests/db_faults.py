"""Damaged database files for tests: a real PeerBot database, then bytes overwritten like a failing disk.

Used by the storage unit tests, the CLI tests and the end-to-end journeys, so all three meet the same
kind of damage. Plain ``sqlite3``, no event loop: it also runs inside async tests, before a bot starts.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from peerbot.core.storage.migrations import MIGRATIONS

HISTORY_ENTRY = "rrr-objectives"  # an entry of the bundled knowledge, so /kb history can be asked about it


def write_database(path: Path, rows: int = 400) -> range:
    """A migrated database with ``rows`` unanswered questions and knowledge changes.

    Returns the pages those rows were written to (tables and indexes, not the schema): damage there
    is found only when the rows are read.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as connection:
        for number, script in enumerate(MIGRATIONS, start=1):
            connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        first = connection.execute("PRAGMA page_count").fetchone()[0] + 1
        connection.executemany(
            "INSERT INTO unanswered_question (question, outcome, guild_id, asked_at) VALUES (?, ?, 1, ?)",
            [
                (f"question {n} " + "x" * 100, "declined", f"2020-01-01T00:00:{n % 60:02d}")
                for n in range(rows)
            ],
        )
        connection.executemany(
            "INSERT INTO knowledge_change (entry_id, action, file, member_id, member_name, changed_at, "
            "before, after) VALUES (?, 'edit', 'rrr.yaml', 3, 'Carol', ?, ?, ?)",
            [
                (HISTORY_ENTRY, f"2020-01-01T00:{n % 60:02d}:00+00:00", "  - id: x\n" + "y" * 300, None)
                for n in range(rows)
            ],
        )
        connection.commit()
        last = connection.execute("PRAGMA page_count").fetchone()[0]
    return range(first, last + 1)


def page_size(path: Path) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return int(connection.execute("PRAGMA page_size").fetchone()[0])


def damage_pages(path: Path, pages: range | list[int]) -> None:
    """Overwrite the middle half of each page (1-based numbers) with 0xFF bytes."""
    size = page_size(path)
    with path.open("r+b") as file:
        for page in pages:
            file.seek((page - 1) * size + size // 4)
            file.write(b"\xff" * (size // 2))


def corrupt_database(path: Path) -> bytes:
    """A real database with one damaged inner page in the middle of its rows; returns the file's bytes."""
    pages = write_database(path)
    damage_pages(path, [pages[len(pages) // 2]])
    return path.read_bytes()
