"""The schema, as an append-only list of migrations.

Migration N brings a database from version N-1 to N. Never edit a released migration: add one, so
that an old database file is upgraded in place and never dropped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: questions PeerBot could not answer, for editors to see what is missing (no user id on purpose).
    """
    CREATE TABLE unanswered_question (
        id INTEGER PRIMARY KEY,
        question TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('declined', 'uncertain')),
        guild_id INTEGER,
        asked_at TEXT NOT NULL
    );
    CREATE INDEX unanswered_question_asked_at ON unanswered_question (asked_at);
    """,
)
