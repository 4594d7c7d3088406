"""One server's introductions in memory, so /peers never re-reads or re-normalises them per search.

Built once from the database on the first search in a server and kept in step by every write of
:class:`~peerbot.core.intros.IntroStore`. Words are indexed like a book's index (word -> members),
so a query only looks at the vocabulary (a few thousand words) and at the members who share a word
with it, instead of fuzzy-matching every word of every member.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from peerbot.core.text import fold

# (member id, best score, matched word) for one query word; ties go to the member's earliest word.
WordHit = tuple[float, int, str]


@dataclass(frozen=True, slots=True)
class IndexedMember:
    intro: object  # an Introduction; typed loosely to keep this module free of the store
    consortium: str | None
    country: str  # folded
    positions: dict[str, int]  # searchable word -> its place in the member's text


class PeerIndex:
    """Introductions of one server, indexed by word and by country."""

    def __init__(self, words_of: Callable[[object], Sequence[str]]) -> None:
        self._words_of = words_of
        self._members: dict[int, IndexedMember] = {}
        self._postings: dict[str, set[int]] = defaultdict(set)
        self._vocabulary: list[str] | None = None

    @classmethod
    def of(cls, intros: Iterable[object], words_of: Callable[[object], Sequence[str]]) -> PeerIndex:
        index = cls(words_of)
        for intro in intros:
            index.upsert(intro)
        return index

    def __len__(self) -> int:
        return len(self._members)

    def upsert(self, intro: object) -> None:
        member_id: int = intro.member_id  # type: ignore[attr-defined]
        self.remove(member_id)
        words = self._words_of(intro)
        positions = {word: place for place, word in enumerate(words)}
        country = fold(intro.country)  # type: ignore[attr-defined]
        self._members[member_id] = IndexedMember(intro, intro.consortium, country, positions)  # type: ignore[attr-defined]
        for word in positions:
            if word not in self._postings:
                self._vocabulary = None
            self._postings[word].add(member_id)

    def remove(self, member_id: int) -> None:
        member = self._members.pop(member_id, None)
        if member is None:
            return
        for word in member.positions:
            holders = self._postings[word]
            holders.discard(member_id)
            if not holders:
                del self._postings[word]
                self._vocabulary = None

    def members(self, consortium: str | None = None) -> list[IndexedMember]:
        """Members in id order, optionally of one consortium."""
        chosen = (m for m in self._members.values() if consortium is None or m.consortium == consortium)
        return sorted(chosen, key=lambda member: member.intro.member_id)  # type: ignore[attr-defined]

    def _vocab(self) -> list[str]:
        if self._vocabulary is None:
            self._vocabulary = sorted(self._postings)
        return self._vocabulary

    def word_scores(self, query_word: str, *, min_fuzzy: int, cutoff: float) -> dict[str, float]:
        """Vocabulary words that count as ``query_word``: exact 100, prefix 90, close spelling its ratio."""
        scores: dict[str, float] = {}
        if query_word in self._postings:
            scores[query_word] = 100.0
        if len(query_word) < min_fuzzy:
            return scores
        vocabulary = self._vocab()
        for word in vocabulary:
            if word != query_word and word.startswith(query_word):
                scores[word] = 90.0  # "financ" finds "financing"
        for word, ratio, _ in process.extract(
            query_word, vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
        ):
            if word != query_word and ratio > scores.get(word, 0.0):
                scores[word] = ratio
        return scores

    def best_hits(self, scores: dict[str, float], allowed: set[int] | None) -> dict[int, tuple[float, str]]:
        """Each member holding a scored word: the best score and that word (the earliest wins ties)."""
        best: dict[int, tuple[float, int, str]] = {}
        for word, score in scores.items():
            for member_id in self._postings.get(word, ()):
                if allowed is not None and member_id not in allowed:
                    continue
                place = self._members[member_id].positions[word]
                current = best.get(member_id)
                if current is None or (score, -place) > (current[0], -current[1]):
                    best[member_id] = (score, place, word)
        return {member_id: (score, word) for member_id, (score, _, word) in best.items()}
