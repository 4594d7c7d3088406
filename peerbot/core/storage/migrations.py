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
    # 2: member introductions (one per member per server, with the posted card) and per-server settings.
    # Length checks repeat intros.FIELD_LIMITS as a last line of defence; the consortium is checked in
    # Python only, so adding a consortium later needs no table rebuild.
    """
    CREATE TABLE introduction (
        guild_id INTEGER NOT NULL,
        member_id INTEGER NOT NULL,
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
        organisation TEXT NOT NULL DEFAULT '' CHECK (length(organisation) <= 100),
        country TEXT NOT NULL CHECK (length(country) BETWEEN 1 AND 60),
        topics TEXT NOT NULL CHECK (length(topics) BETWEEN 1 AND 300),
        offer_seek TEXT NOT NULL DEFAULT '' CHECK (length(offer_seek) <= 500),
        consortium TEXT CHECK (consortium IS NULL OR length(consortium) BETWEEN 1 AND 60),
        card_channel_id INTEGER,
        card_message_id INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (guild_id, member_id),
        CHECK ((card_channel_id IS NULL) = (card_message_id IS NULL))
    );
    CREATE INDEX introduction_member ON introduction (member_id);
    CREATE TABLE guild_settings (
        guild_id INTEGER PRIMARY KEY,
        introductions_channel_id INTEGER,
        announcements_channel_id INTEGER,
        editor_role_id INTEGER,
        welcome_enabled INTEGER NOT NULL DEFAULT 1 CHECK (welcome_enabled IN (0, 1)),
        timezone TEXT NOT NULL DEFAULT 'UTC' CHECK (length(timezone) BETWEEN 1 AND 64),
        erase_on_leave INTEGER NOT NULL DEFAULT 0 CHECK (erase_on_leave IN (0, 1)),
        updated_at TEXT NOT NULL
    );
    """,
)
