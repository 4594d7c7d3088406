"""The log of questions PeerBot declined or was unsure about, so editors know what to add next."""

from __future__ import annotations

from peerbot.core.clock import Clock, utc_now
from peerbot.core.qa import Outcome
from peerbot.core.storage import Database

MAX_LOGGED = 500  # characters of a question kept; the rest says nothing more about the gap


class UnansweredLog:
    """Records questions without who asked them: the text, the outcome, the guild and the time."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._database = database

    async def record(self, question: str, outcome: Outcome, guild_id: int | None) -> None:
        await self._database.execute(
            "INSERT INTO unanswered_question (question, outcome, guild_id, asked_at) VALUES (?, ?, ?, ?)",
            (question[:MAX_LOGGED], outcome.value, guild_id, self._clock().isoformat()),
        )

    async def count(self) -> int:
        row = await self._database.fetch_one("SELECT COUNT(*) FROM unanswered_question")
        return int(row[0]) if row else 0

    async def recent(self, guild_id: int | None, limit: int = 2000) -> list[str]:
        """The latest questions of one server (None: direct messages and the terminal), newest first."""
        rows = await self._database.fetch_all(
            "SELECT question FROM unanswered_question WHERE guild_id IS ? ORDER BY id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [row["question"] for row in rows]
