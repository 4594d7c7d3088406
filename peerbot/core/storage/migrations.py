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
    # 3: the knowledge base kept from chat: every change (who, when, the entry before and after, as YAML),
    # Helpful / Not helpful votes (one per member per entry per server) and answers served (no user id).
    """
    CREATE TABLE knowledge_change (
        id INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('add', 'edit', 'remove', 'restore')),
        file TEXT NOT NULL,
        member_id INTEGER,
        member_name TEXT,
        changed_at TEXT NOT NULL,
        before TEXT,
        after TEXT,
        CHECK (before IS NOT NULL OR after IS NOT NULL)
    );
    CREATE INDEX knowledge_change_entry ON knowledge_change (entry_id, id);
    CREATE INDEX knowledge_change_member ON knowledge_change (member_id);
    CREATE TABLE answer_vote (
        guild_id INTEGER NOT NULL,
        entry_id TEXT NOT NULL,
        member_id INTEGER NOT NULL,
        helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
        voted_at TEXT NOT NULL,
        PRIMARY KEY (guild_id, entry_id, member_id)
    );
    CREATE INDEX answer_vote_member ON answer_vote (member_id);
    CREATE TABLE answer_served (
        id INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        guild_id INTEGER NOT NULL,
        served_at TEXT NOT NULL
    );
    CREATE INDEX answer_served_guild ON answer_served (guild_id, entry_id);
    """,
    # Thematic events: events, their occurrences (times in UTC), one RSVP per member per occurrence, and
    # every announcement/reminder as a delivery job row, so nothing is lost or sent twice across restarts.
    """
    CREATE TABLE event (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        channel_id INTEGER,
        title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
        theme TEXT NOT NULL CHECK (length(theme) BETWEEN 1 AND 100),
        description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
        link TEXT CHECK (link IS NULL OR length(link) <= 500),
        timezone TEXT NOT NULL CHECK (length(timezone) BETWEEN 1 AND 64),
        start_at TEXT NOT NULL,
        duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
        repeat TEXT CHECK (repeat IS NULL OR repeat IN ('weekly', 'monthly')),
        interval INTEGER NOT NULL DEFAULT 1 CHECK (interval BETWEEN 1 AND 12),
        count INTEGER CHECK (count IS NULL OR count BETWEEN 1 AND 52),
        until TEXT,
        reminders TEXT NOT NULL DEFAULT '',
        created_by INTEGER,
        cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX event_guild ON event (guild_id, cancelled);
    CREATE TABLE event_occurrence (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        number INTEGER NOT NULL CHECK (number >= 1),
        start_at TEXT NOT NULL,
        cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
        message_channel_id INTEGER,
        message_id INTEGER,
        scheduled_event_id INTEGER,
        UNIQUE (event_id, number)
    );
    CREATE TABLE event_rsvp (
        occurrence_id INTEGER NOT NULL REFERENCES event_occurrence (id) ON DELETE CASCADE,
        member_id INTEGER NOT NULL,
        choice TEXT NOT NULL CHECK (choice IN ('going', 'interested', 'not_going')),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (occurrence_id, member_id)
    );
    CREATE INDEX event_rsvp_member ON event_rsvp (member_id);
    CREATE TABLE event_job (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
        occurrence_id INTEGER NOT NULL REFERENCES event_occurrence (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('announce', 'reminder', 'reminder_dm', 'starting', 'cancelled')),
        offset_seconds INTEGER,
        member_id INTEGER,
        due_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'in_flight', 'sent', 'missed', 'failed', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        sent_message_id INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX event_job_active ON event_job (state, next_attempt_at);
    CREATE INDEX event_job_member ON event_job (member_id);
    """,
    # The scheduler asks for the soonest active job after every delivery: a partial index in exactly
    # that order makes it one index step instead of a sort of every active job.
    """
    CREATE INDEX event_job_next_due ON event_job (next_attempt_at, id)
        WHERE state IN ('pending', 'in_flight');
    """,
    # Crash windows. A knowledge change is recorded 'pending' and committed before its file is renamed,
    # then marked 'applied'; at start a pending row is settled against the file. An introduction card
    # is announced in intro_card_post (its id is the marker in the card's footer) before it is posted,
    # and the row goes when the message id is saved; at start a leftover row is looked up by marker.
    # No foreign key to introduction: a card posted for an introduction deleted meanwhile must still be
    # found and removed. AUTOINCREMENT: an id, hence a marker, is never reused.
    """
    ALTER TABLE knowledge_change ADD COLUMN state TEXT NOT NULL DEFAULT 'applied'
        CHECK (state IN ('pending', 'applied'));
    CREATE INDEX knowledge_change_pending ON knowledge_change (id) WHERE state = 'pending';
    CREATE TABLE intro_card_post (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        guild_id INTEGER NOT NULL,
        member_id INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        started_at TEXT NOT NULL
    );
    CREATE INDEX intro_card_post_member ON intro_card_post (member_id, guild_id);
    """,
)
