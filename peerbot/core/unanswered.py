"""The log of questions PeerBot declined or was unsure about, so editors know what to add next."""

from __future__ import annotations

from peerbot.core.bookkeeping import BackgroundWriter
from peerbot.core.clock import Clock, utc_now
from peerbot.core.qa import Outcome
from peerbot.core.storage import Database

MAX_LOGGED = 500  # characters of a question kept; the rest says nothing more about the gap


class UnansweredLog:
    """Records questions without who asked them: the text, the outcome, the guild and the time."""

    def __init__(
        self, database: Database, *, clock: Clock = utc_now, writer: BackgroundWriter | None = None
    ) -> None:
        self._clock = clock
        self._database = database
        self._writer = writer  # None: each question is written at once

    async def record(self, question: str, outcome: Outcome, guild_id: int | None) -> None:
        """Log one question; with a writer it is queued, so the reply is not held up by the database."""
        sql = "INSERT INTO unanswered_question (question, outcome, guild_id, asked_at) VALUES (?, ?, ?, ?)"
        row = (question[:MAX_LOGGED], outcome.value, guild_id, self._clock().isoformat())
        if self._writer is not None:
            self._writer.add(sql, row)
        else:
            await self._database.execute(sql, row)

    async def _flush(self) -> None:
        if self._writer is not None:
            await self._writer.flush()  # questions queued just before are part of what is read

    async def count(self) -> int:
        await self._flush()
        row = await self._database.fetch_one("SELECT COUNT(*) FROM unanswered_question")
        return int(row[0]) if row else 0

    async def recent(self, guild_id: int | None, limit: int = 2000) -> list[str]:
        """The latest questions of one server (None: direct messages and the terminal), newest first."""
        await self._flush()
        rows = await self._database.fetch_all(
            "SELECT question FROM unanswered_question WHERE guild_id IS ? ORDER BY id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [row["question"] for row in rows]
