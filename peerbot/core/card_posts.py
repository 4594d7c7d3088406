"""Posting introduction cards so that a kill mid-way neither loses one nor posts it twice.

Posting a card takes two systems: Discord accepts the message, then its id is saved here. A kill in
between used to leave a public card nobody knew of: the next edit posted a second one, and forget-me
said "erased" while the card stayed up. So the intent comes first: an ``intro_card_post`` row ("a card
for member M is being posted in channel C"), committed before anything is sent, whose marker the
card carries in its footer. The row is deleted in the same transaction that saves the message id.

A row left over is reconciled the way the event scheduler settles an interrupted delivery: the
front-end looks for the marker in the channel's recent messages; a card found is recorded (or
removed, if its introduction was deleted meanwhile), and one that never arrived is posted again.
That runs at start and before any new post for the same member, and forget-me deletes the card of
any row too. The front-end is a :class:`CardBoard`; this module never imports discord.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from peerbot.core.clock import Clock, utc_now
from peerbot.core.intros import Introduction, IntroStore
from peerbot.core.privacy import PrivacyService
from peerbot.core.storage import Database

log = logging.getLogger(__name__)

Card = tuple[int, int]  # (channel id, message id)
RECORDED, REMOVED, MISSING = "recorded", "removed", "missing"  # how a leftover row was settled


class CardError(RuntimeError):
    """The card could not be posted or checked; ``str()`` is for the member.

    ``maybe_posted`` is True when Discord may have taken the card anyway (a timeout, a 5xx): its intent
    row is then kept, so the marker is looked for before anything is posted again.
    """

    def __init__(self, message: str, *, maybe_posted: bool = False) -> None:
        super().__init__(message)
        self.maybe_posted = maybe_posted


@dataclass(frozen=True, slots=True)
class CardPost:
    """A card being posted: written before the message is sent, deleted once its id is saved."""

    id: int
    guild_id: int
    member_id: int
    channel_id: int
    started_at: datetime

    @property
    def marker(self) -> str:
        """Put in the card's footer, so the message can be recognised after a crash.

        The member id guards against a card of a previous database that happens to share the number.
        """
        return f"member {self.member_id} · card {self.id}"


class CardBoard(Protocol):
    """The front-end that shows cards: the Discord adapter (``peerbot.discord.intro_cards``)."""

    async def post(self, intro: Introduction, channel_id: int, marker: str) -> int:
        """Post the card with ``marker`` in it; its message id. Raises :class:`CardError`."""
        ...

    async def edit(self, intro: Introduction, card: Card) -> bool:
        """Update the posted card in place; False when the message is gone. Raises :class:`CardError`."""
        ...

    async def find(self, channel_id: int, marker: str) -> int | None:
        """The id of PeerBot's recent message carrying ``marker``; None when there is none (or it can
        never be seen: the channel is gone). Raises :class:`CardError` when worth trying again."""
        ...

    async def delete(self, card: Card) -> bool:
        """Delete a posted card; True when it is gone (also when it already was)."""
        ...


def _post_from_row(row: sqlite3.Row) -> CardPost:
    return CardPost(
        id=row["id"],
        guild_id=row["guild_id"],
        member_id=row["member_id"],
        channel_id=row["channel_id"],
        started_at=datetime.fromisoformat(row["started_at"]),
    )


class CardPostLog:
    """The ``intro_card_post`` rows: cards announced but not (yet) known to be recorded."""

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock

    async def begin(self, guild_id: int, member_id: int, channel_id: int) -> CardPost:
        """Announce a post, committed before the message is sent."""
        now = self._clock().astimezone(UTC)
        number = await self._database.execute(
            "INSERT INTO intro_card_post (guild_id, member_id, channel_id, started_at) VALUES (?, ?, ?, ?)",
            (guild_id, member_id, channel_id, now.isoformat()),
        )
        return CardPost(number, guild_id, member_id, channel_id, now)

    async def pending(self, member_id: int | None = None, guild_id: int | None = None) -> list[CardPost]:
        """Rows left over, oldest first: all of them, or one member's (in one server)."""
        sql = "SELECT * FROM intro_card_post"
        parameters: list[int] = []
        if member_id is not None:
            sql += " WHERE member_id = ?"
            parameters.append(member_id)
            if guild_id is not None:
                sql += " AND guild_id = ?"
                parameters.append(guild_id)
        rows = await self._database.fetch_all(sql + " ORDER BY id", parameters)
        return [_post_from_row(row) for row in rows]

    async def drop(self, post: CardPost) -> None:
        await self._database.execute("DELETE FROM intro_card_post WHERE id = ?", (post.id,))

    def register_privacy(self, service: PrivacyService) -> None:
        """The rows hold member ids: /privacy shows them and forgetting erases them."""
        service.register("introduction cards being posted", self._describe_member, self._erase_member)

    async def _describe_member(self, member_id: int) -> list[str]:
        return [
            f"A card being posted in channel {post.channel_id} of server {post.guild_id} "
            f"(since {post.started_at:%Y-%m-%d %H:%M} UTC)"
            for post in await self.pending(member_id)
        ]

    async def _erase_member(self, member_id: int) -> int:
        async with self._database.transaction() as connection:
            cursor = await connection.execute("DELETE FROM intro_card_post WHERE member_id = ?", (member_id,))
            return cursor.rowcount


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What :meth:`CardPublisher.reconcile` did with the rows a crash left."""

    recorded: int = 0  # found in the channel and saved
    reposted: int = 0  # never arrived: posted again
    removed: int = 0  # found, but the introduction was deleted meanwhile: the card was deleted
    unresolved: int = 0  # Discord could not be asked: kept for the next start or post

    @property
    def total(self) -> int:
        return self.recorded + self.reposted + self.removed + self.unresolved


class CardPublisher:
    """Posts, updates and removes members' cards through a :class:`CardBoard`, crash-safely.

    One member's card operations take turns (a double-clicked Post cannot post twice); different
    members' run side by side.
    """

    def __init__(self, store: IntroStore, posts: CardPostLog, board: CardBoard) -> None:
        self._store = store
        self._posts = posts
        self._board = board
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, member_id: int) -> asyncio.Lock:
        return self._locks.setdefault(member_id, asyncio.Lock())

    async def publish(self, intro: Introduction, channel_id: int) -> Introduction:
        """Update the member's card in place, or post it in ``channel_id``; returns the stored intro."""
        async with self._lock(intro.member_id):
            return await self._publish(intro, channel_id)

    async def _publish(self, intro: Introduction, channel_id: int) -> Introduction:
        for post in await self._posts.pending(intro.member_id, intro.guild_id):
            outcome, found = await self._settle(post)  # a card an earlier attempt posted is recorded
            if outcome == RECORDED and found is not None:
                intro = found
        if intro.card is not None:
            if await self._board.edit(intro, intro.card):
                return intro
            log.info("The card of member %d was deleted; posting it again", intro.member_id)
        post = await self._posts.begin(intro.guild_id, intro.member_id, channel_id)
        try:
            message_id = await self._board.post(intro, channel_id, post.marker)
        except CardError as exc:
            if not exc.maybe_posted:
                await self._posts.drop(post)
            raise
        stored = await self._store.set_card(
            intro.guild_id, intro.member_id, channel_id, message_id, finishing=post.id
        )
        if stored is None:  # the introduction was deleted while the card was being posted
            if await self._board.delete((channel_id, message_id)):
                await self._posts.drop(post)
            raise CardError("Your introduction was deleted meanwhile, so the card was removed.")
        return stored

    async def _settle(self, post: CardPost) -> tuple[str, Introduction | None]:
        """Resolve one leftover row: (RECORDED, the stored intro), (REMOVED, None) or (MISSING, None).

        Raises :class:`CardError` when Discord cannot be asked; the row is then kept.
        """
        message_id = await self._board.find(post.channel_id, post.marker)
        if message_id is None:
            await self._posts.drop(post)
            return MISSING, None
        card = (post.channel_id, message_id)
        current = await self._store.get(post.guild_id, post.member_id)
        older = current.card if current is not None else None
        stored = await self._store.set_card(post.guild_id, post.member_id, *card, finishing=post.id)
        if older is not None and older != card:  # one card per member: a double would stay up unknown
            await self._board.delete(older)
        if stored is None:  # its introduction is gone: so must the card be
            if not await self._board.delete(card):
                raise CardError("The card of a deleted introduction could not be removed.")
            await self._posts.drop(post)
            log.info("Removed the card of member %d, whose introduction was deleted", post.member_id)
            return REMOVED, None
        log.info(
            "Recorded the introduction card of member %d (message %d), posted before a restart",
            post.member_id,
            message_id,
        )
        return RECORDED, stored

    async def reconcile(self) -> ReconcileReport:
        """Settle every row a crash left: record the card found by marker, or post it again."""
        recorded = reposted = removed = unresolved = 0
        for post in await self._posts.pending():
            async with self._lock(post.member_id):
                try:
                    outcome, _ = await self._settle(post)
                    if outcome == RECORDED:
                        recorded += 1
                        continue
                    if outcome == REMOVED:
                        removed += 1
                        continue
                    intro = await self._store.get(post.guild_id, post.member_id)
                    if intro is None:  # deleted before its card arrived: nothing to post
                        continue
                    # It never arrived: post it now (an existing live card is updated instead).
                    await self._publish(intro, post.channel_id)
                    reposted += 1
                    log.info("Posted the introduction card of member %d after a restart", post.member_id)
                except CardError as exc:
                    unresolved += 1
                    log.warning("Card %s: could not settle it (%s); trying again later", post.marker, exc)
        report = ReconcileReport(recorded, reposted, removed, unresolved)
        if report.total:
            log.info("Introduction cards left by a crash: %s", report)
        return report

    async def remove(self, member_id: int, cards: Iterable[Card], guild_id: int | None = None) -> int:
        """Delete the given cards and any card of the member still being posted (in ``guild_id``, or
        every server); returns how many could not be deleted, for the member to be told."""
        stuck = 0
        async with self._lock(member_id):
            for card in cards:
                if not await self._board.delete(card):
                    stuck += 1
            for post in await self._posts.pending(member_id, guild_id):
                try:
                    message_id = await self._board.find(post.channel_id, post.marker)
                except CardError:
                    stuck += 1
                    continue
                if message_id is not None and not await self._board.delete((post.channel_id, message_id)):
                    stuck += 1
                    continue
                await self._posts.drop(post)
        return stuck
