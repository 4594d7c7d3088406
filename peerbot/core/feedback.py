"""How answers land: Helpful / Not helpful votes and how often each entry is served, for /kb stats.

A vote is one per member per entry per server and can be changed; it keeps the member id (so a
second click changes the vote instead of adding one) and therefore registers a privacy step. An
answer served is counted with the entry id, the server and the time only: no user id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from peerbot.core.bookkeeping import BackgroundWriter
from peerbot.core.clock import Clock, utc_now
from peerbot.core.library import KnowledgeLibrary
from peerbot.core.privacy import PrivacyService
from peerbot.core.storage import Database

log = logging.getLogger(__name__)

NO_GUILD = 0  # direct messages and the terminal chat, which have no server


def _guild_key(guild_id: int | None) -> int:
    return NO_GUILD if guild_id is None else guild_id


class VoteOutcome(Enum):
    RECORDED = "recorded"  # a first vote
    CHANGED = "changed"  # the member changed their mind
    UNCHANGED = "unchanged"  # the same vote again


class UnknownEntry(LookupError):
    """The entry named is not in the knowledge base; the message says so."""


@dataclass(frozen=True, slots=True)
class EntryCount:
    entry_id: str
    title: str  # "(removed)" for an entry no longer in the knowledge base
    count: int
    helpful: int = 0
    unhelpful: int = 0


@dataclass(frozen=True, slots=True)
class KnowledgeStats:
    most_asked: tuple[EntryCount, ...]
    most_helpful: tuple[EntryCount, ...]
    least_helpful: tuple[EntryCount, ...]
    served: int
    votes: int


def vote_message(outcome: VoteOutcome, helpful: bool, title: str) -> str:
    """What the member is told after voting, the same in Discord and the terminal."""
    what = "helpful" if helpful else "not helpful"
    if outcome is VoteOutcome.UNCHANGED:
        return f"You already marked “{title}” as {what}."
    if outcome is VoteOutcome.CHANGED:
        return f"Vote changed: “{title}” marked as {what}. Thank you!"
    return f"Thanks for the feedback: “{title}” marked as {what}."


class AnswerFeedback:
    """Votes and served counts, read per server for /kb stats."""

    def __init__(
        self,
        database: Database,
        library: KnowledgeLibrary,
        *,
        clock: Clock = utc_now,
        writer: BackgroundWriter | None = None,
    ) -> None:
        self._clock = clock
        self._database = database
        self._library = library
        self._writer = writer  # None: each count is written at once

    async def served(self, entry_id: str, guild_id: int | None) -> None:
        """Count one answer shown (called by the question service; no user id on purpose).

        With a writer the row is queued, so the answer is not held up by the database.
        """
        sql = "INSERT INTO answer_served (entry_id, guild_id, served_at) VALUES (?, ?, ?)"
        row = (entry_id, _guild_key(guild_id), self._clock().isoformat())
        if self._writer is not None:
            self._writer.add(sql, row)
        else:
            await self._database.execute(sql, row)

    async def vote(self, entry_id: str, member_id: int, helpful: bool, guild_id: int | None) -> VoteOutcome:
        """Record or change the member's vote on an entry."""
        if self._library.base.get(entry_id) is None:
            raise UnknownEntry(f"There is no entry '{entry_id[:80]}' in the knowledge base.")
        guild = _guild_key(guild_id)
        async with self._database.transaction() as connection:
            async with connection.execute(
                "SELECT helpful FROM answer_vote WHERE guild_id = ? AND entry_id = ? AND member_id = ?",
                (guild, entry_id, member_id),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and bool(row[0]) == helpful:
                return VoteOutcome.UNCHANGED
            await connection.execute(
                "INSERT INTO answer_vote (guild_id, entry_id, member_id, helpful, voted_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, entry_id, member_id) "
                "DO UPDATE SET helpful = excluded.helpful, voted_at = excluded.voted_at",
                (guild, entry_id, member_id, int(helpful), self._clock().isoformat()),
            )
        return VoteOutcome.RECORDED if row is None else VoteOutcome.CHANGED

    def _title(self, entry_id: str) -> str:
        entry = self._library.base.get(entry_id)
        return entry.title if entry else "(removed)"

    async def stats(self, guild_id: int | None, limit: int = 5) -> KnowledgeStats:
        """Most asked, most helpful and least helpful entries in one server."""
        if self._writer is not None:
            await self._writer.flush()  # counts queued by answers shown just before
        guild = _guild_key(guild_id)
        asked = await self._database.fetch_all(
            "SELECT entry_id, COUNT(*) AS n FROM answer_served WHERE guild_id = ? "
            "GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT ?",
            (guild, limit),
        )
        votes = await self._database.fetch_all(
            "SELECT entry_id, SUM(helpful) AS up, SUM(1 - helpful) AS down FROM answer_vote "
            "WHERE guild_id = ? GROUP BY entry_id",
            (guild,),
        )
        counts = [
            EntryCount(row["entry_id"], self._title(row["entry_id"]), row["up"], row["up"], row["down"])
            for row in votes
        ]
        helpful = sorted(
            (c for c in counts if c.helpful), key=lambda c: (-c.helpful, c.unhelpful, c.entry_id)
        )
        unhelpful = sorted(
            (
                EntryCount(c.entry_id, c.title, c.unhelpful, c.helpful, c.unhelpful)
                for c in counts
                if c.unhelpful
            ),
            key=lambda c: (-c.unhelpful, c.helpful, c.entry_id),
        )
        total = await self._database.fetch_one(
            "SELECT COUNT(*) FROM answer_served WHERE guild_id = ?", (guild,)
        )
        return KnowledgeStats(
            most_asked=tuple(EntryCount(r["entry_id"], self._title(r["entry_id"]), r["n"]) for r in asked),
            most_helpful=tuple(helpful[:limit]),
            least_helpful=tuple(unhelpful[:limit]),
            served=int(total[0]) if total else 0,
            votes=sum(c.helpful + c.unhelpful for c in counts),
        )

    def register_privacy(self, service: PrivacyService) -> None:
        service.register("answer votes", self._describe_member, self._erase_member)

    async def _describe_member(self, member_id: int) -> list[str]:
        rows = await self._database.fetch_all(
            "SELECT * FROM answer_vote WHERE member_id = ? ORDER BY guild_id, entry_id", (member_id,)
        )
        return [
            f"Vote on answer '{row['entry_id']}' in server {row['guild_id'] or '(none)'}: "
            f"{'helpful' if row['helpful'] else 'not helpful'} ({row['voted_at'][:16].replace('T', ' ')} UTC)"
            for row in rows
        ]

    async def _erase_member(self, member_id: int) -> int:
        async with self._database.transaction() as connection:
            cursor = await connection.execute("DELETE FROM answer_vote WHERE member_id = ?", (member_id,))
            return cursor.rowcount


def stats_sections(stats: KnowledgeStats) -> list[tuple[str, list[str]]]:
    """/kb stats as (heading, lines) sections, the same in both front-ends."""

    def votes(count: EntryCount) -> str:
        return f"{count.title} [{count.entry_id}]: {count.helpful} helpful, {count.unhelpful} not helpful"

    return [
        (
            f"Most asked ({stats.served} answers shown)",
            [f"{c.title} [{c.entry_id}]: {c.count}×" for c in stats.most_asked],
        ),
        (f"Most helpful ({stats.votes} votes)", [votes(c) for c in stats.most_helpful]),
        ("Least helpful", [votes(c) for c in stats.least_helpful]),
    ]
