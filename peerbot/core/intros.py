"""Peer introductions: members say who they are and what they work on, and find peers by topic.

One introduction per member per server. Text is stored exactly as typed (only trimmed and stripped of
zero-width characters): escaping markdown and mentions is the front-end's job when it shows a card.
"""

from __future__ import annotations

import heapq
import logging
import math
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from peerbot.core.clock import Clock, utc_now
from peerbot.core.knowledge import CONSORTIA
from peerbot.core.peer_index import PeerIndex
from peerbot.core.privacy import PrivacyService
from peerbot.core.storage import Database
from peerbot.core.text import fold, normalise, strip_chat_markup, strip_invisible

log = logging.getLogger(__name__)

# "General" holds the overview and glossary entries; nobody belongs to it.
INTRO_CONSORTIA: tuple[str, ...] = tuple(name for name in CONSORTIA if name != "General")

MAX_PAGE = 25  # results per search page; a Discord embed holds 25 fields
MATCH_LIMIT = 3
# A query word counts as found in a member's text at this rapidfuzz ratio (typos: "measurment").
WORD_CUTOFF = 85.0
MIN_FUZZY_WORD = 4  # shorter query words must match exactly or as a prefix ("ai" is not "aid")
# A member is returned when the query words found score more than this on average (unfound words
# count 0): more than half the query must be found, so "impact measurement" skips "impact investors".
MIN_TOPIC_SCORE = 50.0
# Countries are short: one edit in six letters (Frnace) passes, two (Austria/Australia) do not.
COUNTRY_CUTOFF = 0.8


class FieldLimit(NamedTuple):
    """How a field is named to members and how long it may be, in characters."""

    label: str
    minimum: int
    maximum: int

    @property
    def hint(self) -> str:
        if self.minimum:
            return f"{self.minimum}-{self.maximum} characters"
        return f"up to {self.maximum} characters"


# The limits shown to members; migration 2 repeats them as CHECK constraints.
FIELD_LIMITS: dict[str, FieldLimit] = {
    "name": FieldLimit("Name", 1, 80),
    "organisation": FieldLimit("Organisation", 0, 100),
    "country": FieldLimit("Country", 1, 60),
    "topics": FieldLimit("What I work on", 1, 300),
    "offer_seek": FieldLimit("What I can offer / am looking for", 0, 500),
}
_ONE_LINE_FIELDS = frozenset({"name", "organisation", "country"})


class IntroError(ValueError):
    """An introduction or a search that cannot be accepted; ``problems`` are for the member."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class IntroDraft:
    """The fields a member fills in; the store adds ids, the card and the times."""

    name: str
    country: str
    topics: str
    organisation: str = ""
    offer_seek: str = ""
    consortium: str | None = None


@dataclass(frozen=True, slots=True)
class Introduction:
    guild_id: int
    member_id: int
    name: str
    organisation: str
    country: str
    topics: str
    offer_seek: str
    consortium: str | None
    card_channel_id: int | None
    card_message_id: int | None
    created_at: datetime
    updated_at: datetime

    def draft(self) -> IntroDraft:
        """The editable fields, to pre-fill an edit form."""
        return IntroDraft(
            name=self.name,
            country=self.country,
            topics=self.topics,
            organisation=self.organisation,
            offer_seek=self.offer_seek,
            consortium=self.consortium,
        )

    @property
    def card(self) -> tuple[int, int] | None:
        """(channel id, message id) of the posted card, if any."""
        if self.card_channel_id is None or self.card_message_id is None:
            return None
        return self.card_channel_id, self.card_message_id


@dataclass(frozen=True, slots=True)
class PeerMatch:
    """A peer and why they were found: ``overlap`` holds the matched words, normalised."""

    intro: Introduction
    score: float
    overlap: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchPage:
    items: list[PeerMatch]
    total: int  # matches over all pages


# Like text.strip_invisible, but keeping the zero-width joiner and non-joiner: they build emoji
# (👩🏽‍💻) and are spelling in Persian and Indic scripts, so dropping them would alter a name.
# Search folds them away anyway.
_STRIPPED = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u200e\u200f\u00ad"), None)


def _clean(value: str | None) -> str:
    return (value or "").translate(_STRIPPED).strip()


def _visible(value: str) -> bool:
    """Whether anything but whitespace and invisible marks is left (a name of joiners is empty)."""
    return bool(strip_invisible(value).strip())


def resolve_consortium(name: str | None) -> str | None:
    """The canonical consortium for a loose name ("rrr", "french impact"); None when left empty.

    Raises :class:`IntroError` for an unknown or ambiguous name, listing the valid ones.
    """
    text = _clean(name)
    wanted = fold(text)
    if not wanted:
        return None
    valid = ", ".join(INTRO_CONSORTIA)
    exact = [c for c in INTRO_CONSORTIA if wanted in _consortium_names(c)]
    if len(exact) == 1:
        return exact[0]
    by_word = [c for c in INTRO_CONSORTIA if any(wanted in part.split() for part in _consortium_names(c))]
    if len(by_word) > 1:
        choices = " or ".join(by_word)
        raise IntroError([f"Consortium '{text}' could be {choices}; give the full name"])
    if by_word:
        return by_word[0]
    scored = sorted(
        (
            (max(fuzz.ratio(wanted, part) for part in _consortium_names(c)), index, c)
            for index, c in enumerate(INTRO_CONSORTIA)
        ),
        key=lambda item: (-item[0], item[1]),
    )
    if scored[0][0] >= WORD_CUTOFF and scored[0][0] > scored[1][0]:
        return scored[0][2]
    raise IntroError([f"Consortium '{text}' is not one of: {valid} (or leave it empty)"])


def _consortium_names(consortium: str) -> list[str]:
    """The folded ways to name a consortium: the whole name and each side of the slash."""
    return [fold(consortium), *(fold(part) for part in consortium.split("/"))]


def _has_control(text: str, allow_newlines: bool) -> bool:
    allowed = {"\n", "\t"} if allow_newlines else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def clean_draft(draft: IntroDraft) -> IntroDraft:
    """Trim the fields and resolve the consortium when possible; the content is otherwise kept."""
    try:
        consortium = resolve_consortium(draft.consortium)
    except IntroError:
        consortium = _clean(draft.consortium)
    return IntroDraft(
        name=_clean(draft.name),
        country=_clean(draft.country),
        topics=_clean(draft.topics),
        organisation=_clean(draft.organisation),
        offer_seek=_clean(draft.offer_seek),
        consortium=consortium,
    )


def validate_draft(draft: IntroDraft) -> list[str]:
    """Problems a member can fix, each naming the field and its limit; empty when the draft is fine."""
    problems: list[str] = []
    cleaned = clean_draft(draft)
    for key, limit in FIELD_LIMITS.items():
        value: str = getattr(cleaned, key)
        if len(value) < limit.minimum or (limit.minimum and not _visible(value)):
            problems.append(f"{limit.label} is empty; give {limit.hint}")
        elif len(value) > limit.maximum:
            problems.append(f"{limit.label} is {len(value):,} characters; the limit is {limit.maximum}")
        elif _has_control(value, allow_newlines=key not in _ONE_LINE_FIELDS):
            where = "on one line" if key in _ONE_LINE_FIELDS else "plain text"
            problems.append(f"{limit.label} must be {where}")
    try:
        resolve_consortium(draft.consortium)
    except IntroError as exc:
        problems.extend(exc.problems)
    return problems


def _intro_from_row(row: sqlite3.Row) -> Introduction:
    return Introduction(
        guild_id=row["guild_id"],
        member_id=row["member_id"],
        name=row["name"],
        organisation=row["organisation"],
        country=row["country"],
        topics=row["topics"],
        offer_seek=row["offer_seek"],
        consortium=row["consortium"],
        card_channel_id=row["card_channel_id"],
        card_message_id=row["card_message_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def _words(text: str) -> list[str]:
    """Searchable words in order, without duplicates: mentions dropped, folded, stop words removed."""
    return list(dict.fromkeys(normalise(strip_chat_markup(text)).split()))


def _searchable_words(intro: Introduction) -> list[str]:
    """What a topic search looks in: "what I work on" and "what I can offer / am looking for"."""
    return _words(f"{intro.topics}\n{intro.offer_seek}")


def _near(a: str, b: str) -> bool:
    """Near-identical topic words: equal, or one typo/plural apart in a word of 5+ letters."""
    if a == b:
        return True
    return min(len(a), len(b)) >= MIN_FUZZY_WORD + 1 and fuzz.ratio(a, b) >= WORD_CUTOFF


def _country_score(query: str, country: str) -> tuple[float, bool]:
    """(score, exact): exact when folded equal or every query word is a word of the country."""
    wanted, have = fold(query), fold(country)
    if not have:
        return 0.0, False
    if wanted == have or set(wanted.split()) <= set(have.split()):
        return 100.0, True
    candidates = [have, *have.split()]
    similarity = max(OSA.normalized_similarity(wanted, candidate) for candidate in candidates)
    return (similarity * 100.0, False) if similarity >= COUNTRY_CUTOFF else (0.0, False)


class IntroStore:
    """Introductions in SQLite, with fuzzy search and peer matching over one server's members."""

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock
        self._indexes: dict[int, PeerIndex] = {}  # per server, built on its first search

    async def _index(self, guild_id: int) -> PeerIndex:
        index = self._indexes.get(guild_id)
        if index is None:
            index = PeerIndex.of(await self.all_for_guild(guild_id), _searchable_words)
            self._indexes[guild_id] = index
        return index

    def _indexed(self, intro: Introduction) -> Introduction:
        """Keep a built index in step with a write (a server never searched has no index to update)."""
        index = self._indexes.get(intro.guild_id)
        if index is not None:
            index.upsert(intro)
        return intro

    def _unindexed(self, guild_id: int, member_id: int) -> None:
        index = self._indexes.get(guild_id)
        if index is not None:
            index.remove(member_id)

    async def save(self, guild_id: int, member_id: int, draft: IntroDraft) -> Introduction:
        """Create or replace the member's introduction; the card ids and creation time are kept."""
        problems = validate_draft(draft)
        if problems:
            raise IntroError(problems)
        clean = clean_draft(draft)
        now = self._clock().astimezone(UTC).isoformat()
        async with self._database.transaction() as connection:
            await connection.execute(
                """
                INSERT INTO introduction (guild_id, member_id, name, organisation, country, topics,
                                          offer_seek, consortium, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, member_id) DO UPDATE SET
                    name = excluded.name, organisation = excluded.organisation,
                    country = excluded.country, topics = excluded.topics,
                    offer_seek = excluded.offer_seek, consortium = excluded.consortium,
                    updated_at = excluded.updated_at
                """,
                (
                    guild_id,
                    member_id,
                    clean.name,
                    clean.organisation,
                    clean.country,
                    clean.topics,
                    clean.offer_seek,
                    clean.consortium,
                    now,
                    now,
                ),
            )
            async with connection.execute(
                "SELECT * FROM introduction WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)
            ) as cursor:
                row = await cursor.fetchone()
        if row is None:  # written just above in the same transaction: only a broken database gets here
            raise RuntimeError(f"the introduction of member {member_id} was not saved")
        log.info("Saved the introduction of member %d in guild %d", member_id, guild_id)
        return self._indexed(_intro_from_row(row))

    async def get(self, guild_id: int, member_id: int) -> Introduction | None:
        row = await self._database.fetch_one(
            "SELECT * FROM introduction WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)
        )
        return _intro_from_row(row) if row else None

    async def set_card(
        self,
        guild_id: int,
        member_id: int,
        channel_id: int | None,
        message_id: int | None,
        *,
        finishing: int | None = None,
    ) -> Introduction | None:
        """Remember where the card was posted (both ids, or both None when it is gone).

        ``finishing`` is the ``intro_card_post`` row of this post (``peerbot.core.card_posts``): it is
        deleted in the same transaction, so a crash leaves either the row or the ids, never neither.
        Returns None when the member has no introduction (deleted meanwhile): the card is then stray,
        and the row is kept until the card is deleted.
        """
        if (channel_id is None) != (message_id is None):
            raise ValueError("give both the channel id and the message id of the card, or neither")
        async with self._database.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE introduction SET card_channel_id = ?, card_message_id = ? "
                "WHERE guild_id = ? AND member_id = ?",
                (channel_id, message_id, guild_id, member_id),
            )
            if cursor.rowcount == 0:
                return None
            if finishing is not None:
                await connection.execute("DELETE FROM intro_card_post WHERE id = ?", (finishing,))
        intro = await self.get(guild_id, member_id)
        return self._indexed(intro) if intro is not None else None

    async def delete(self, guild_id: int, member_id: int) -> Introduction | None:
        """Remove the introduction; the one removed is returned so its card can be deleted too."""
        async with self._database.transaction() as connection:
            async with connection.execute(
                "SELECT * FROM introduction WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            await connection.execute(
                "DELETE FROM introduction WHERE guild_id = ? AND member_id = ?", (guild_id, member_id)
            )
        log.info("Deleted the introduction of member %d in guild %d", member_id, guild_id)
        self._unindexed(guild_id, member_id)
        return _intro_from_row(row)

    async def member_left(self, guild_id: int, member_id: int, erase: bool) -> Introduction | None:
        """Apply the server's retention choice (``GuildSettings.erase_on_leave``) when a member leaves.

        Returns the erased introduction (its card is to be deleted), or None when it is kept or absent.
        """
        if not erase:
            return None
        return await self.delete(guild_id, member_id)

    async def all_for_guild(self, guild_id: int) -> list[Introduction]:
        rows = await self._database.fetch_all(
            "SELECT * FROM introduction WHERE guild_id = ? ORDER BY member_id", (guild_id,)
        )
        return [_intro_from_row(row) for row in rows]

    async def cards_of(self, member_id: int) -> list[tuple[int, int]]:
        """Every posted card of the member in every server, to delete before erasing their data."""
        rows = await self._database.fetch_all(
            "SELECT card_channel_id, card_message_id FROM introduction "
            "WHERE member_id = ? AND card_message_id IS NOT NULL ORDER BY guild_id",
            (member_id,),
        )
        return [(row[0], row[1]) for row in rows]

    async def forget_member(self, member_id: int) -> list[Introduction]:
        """Erase the member's introductions in every server; the removed ones are returned."""
        async with self._database.transaction() as connection:
            async with connection.execute(
                "SELECT * FROM introduction WHERE member_id = ? ORDER BY guild_id", (member_id,)
            ) as cursor:
                rows = list(await cursor.fetchall())
            await connection.execute("DELETE FROM introduction WHERE member_id = ?", (member_id,))
        if rows:
            log.info("Erased %d introduction(s) of member %d", len(rows), member_id)
        erased = [_intro_from_row(row) for row in rows]
        for intro in erased:
            self._unindexed(intro.guild_id, member_id)
        return erased

    async def search(
        self,
        guild_id: int,
        topic: str | None = None,
        country: str | None = None,
        consortium: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> SearchPage:
        """Members matching every given filter, best first (ties by member id); all when none given.

        Topic looks in "what I work on" and "what I can offer / am looking for", typo-tolerant; country
        folds accents and tolerates one typo unless some member's country matches exactly; consortium
        is resolved loosely then compared exactly.
        """
        problems: list[str] = []
        if not 1 <= limit <= MAX_PAGE:
            problems.append(f"Results per page must be 1-{MAX_PAGE}")
        if offset < 0:
            problems.append("The page offset cannot be negative")
        topic_text, country_text = _clean(topic), _clean(country)
        topic_words = _words(topic_text)
        if len(topic_text) > FIELD_LIMITS["topics"].maximum:
            problems.append(
                f"The topic is {len(topic_text):,} characters; the limit is {FIELD_LIMITS['topics'].maximum}"
            )
        elif topic_text and not topic_words:
            problems.append("The topic has no words to search for; try e.g. 'impact measurement'")
        if len(country_text) > FIELD_LIMITS["country"].maximum:
            problems.append(
                f"The country is {len(country_text):,} characters; "
                f"the limit is {FIELD_LIMITS['country'].maximum}"
            )
        elif country_text and not fold(country_text):
            problems.append("The country has no letters to search for")
        try:
            wanted_consortium = resolve_consortium(consortium)
        except IntroError as exc:
            problems.extend(exc.problems)
            wanted_consortium = None
        if problems:
            raise IntroError(problems)

        index = await self._index(guild_id)
        members = index.members(wanted_consortium)
        allowed = {member.intro.member_id for member in members} if wanted_consortium else None

        country_scores: dict[int, float] = {}
        if country_text:
            by_country: dict[str, list[int]] = {}
            for member in members:
                by_country.setdefault(member.country, []).append(member.intro.member_id)
            scored = {country: _country_score(country_text, country) for country in by_country}
            any_exact = any(exact for _, exact in scored.values())
            country_scores = {
                member_id: score
                for country, (score, exact) in scored.items()
                if score > 0 and (exact or not any_exact)
                for member_id in by_country[country]
            }

        topic_hits: list[dict[int, tuple[float, str]]] = []
        if topic_words:
            for word in topic_words:
                scores = index.word_scores(word, min_fuzzy=MIN_FUZZY_WORD, cutoff=WORD_CUTOFF)
                topic_hits.append(index.best_hits(scores, allowed))
            candidates = {member_id for hits in topic_hits for member_id in hits}
            members = [member for member in members if member.intro.member_id in candidates]

        matches: list[PeerMatch] = []
        for member in members:
            intro: Introduction = member.intro  # type: ignore[assignment]
            parts: list[float] = []
            overlap: list[str] = []
            if topic_words:
                found = [hits.get(intro.member_id, (0.0, None)) for hits in topic_hits]
                score = sum(hit for hit, _ in found) / len(found)
                if score <= MIN_TOPIC_SCORE:
                    continue
                parts.append(score)
                overlap = list(dict.fromkeys(word for _, word in found if word is not None))
            if country_text:
                if intro.member_id not in country_scores:
                    continue
                parts.append(country_scores[intro.member_id])
            score = sum(parts) / len(parts) if parts else 100.0
            matches.append(PeerMatch(intro, round(score, 2), overlap))
        page = heapq.nsmallest(offset + limit, matches, key=lambda m: (-m.score, m.intro.member_id))
        return SearchPage(page[offset:], len(matches))

    async def match(self, guild_id: int, member_id: int, limit: int = MATCH_LIMIT) -> list[PeerMatch]:
        """The members whose "what I work on" overlaps this member's most, with the shared words.

        Words most members share ("social", "economy") weigh less than rare ones, so a shared niche
        beats a shared generality. The score is the weighted share of the member's topic words found.
        """
        me = await self.get(guild_id, member_id)
        if me is None:
            raise IntroError(["Introduce yourself first; then I can suggest peers who work on your topics"])
        mine = _words(me.topics)
        others = [intro for intro in await self.all_for_guild(guild_id) if intro.member_id != member_id]
        if not mine or not others or limit < 1:
            return []
        their_words = {intro.member_id: _words(intro.topics) for intro in others}
        counts = Counter(word for words in [mine, *their_words.values()] for word in set(words))
        total = len(others) + 1
        weight = {word: math.log(1 + total / counts[word]) for word in mine}
        my_weight = sum(weight.values())
        matches: list[PeerMatch] = []
        for intro in others:
            theirs = their_words[intro.member_id]
            overlap = [word for word in mine if any(_near(word, other) for other in theirs)]
            if overlap:
                score = 100.0 * sum(weight[word] for word in overlap) / my_weight
                matches.append(PeerMatch(intro, round(score, 2), overlap))
        matches.sort(key=lambda m: (-m.score, -len(m.overlap), m.intro.member_id))
        return matches[:limit]

    def register_privacy(self, service: PrivacyService) -> None:
        """Let /privacy show and erase introductions, in every server."""
        service.register("introductions", self._describe_member, self._erase_member)

    async def _describe_member(self, member_id: int) -> list[str]:
        rows = await self._database.fetch_all(
            "SELECT * FROM introduction WHERE member_id = ? ORDER BY guild_id", (member_id,)
        )
        lines: list[str] = []
        for intro in (_intro_from_row(row) for row in rows):
            lines.append(
                f"Introduction in server {intro.guild_id} (created {intro.created_at:%Y-%m-%d %H:%M} UTC, "
                f"updated {intro.updated_at:%Y-%m-%d %H:%M} UTC)"
            )
            for key, limit in FIELD_LIMITS.items():
                lines.append(f"  {limit.label}: {getattr(intro, key) or '(empty)'}")
            lines.append(f"  Consortium: {intro.consortium or '(none)'}")
            if intro.card:
                channel, message = intro.card
                lines.append(f"  Card posted in channel {channel}, message {message}")
        return lines

    async def _erase_member(self, member_id: int) -> int:
        return len(await self.forget_member(member_id))
