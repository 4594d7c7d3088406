"""The retrieval index: fuzzy keyword matching with a confidence that knows when to decline.

Two signals are combined:

- *coverage*: how much of the question's meaning (its words, weighted by how rare they are in the
  knowledge base) an entry contains, matching words with typo tolerance. Words the knowledge base
  has never seen ("weather", "Lisbon") count against every entry, which is what lets PeerBot
  decline off-topic questions instead of answering them with the nearest entry.
- *phrasing*: how close the question is to one of the entry's example questions or its title.

Everything that depends only on the corpus (normalised fields, vocabulary, postings, idf) is built
once in :meth:`KnowledgeIndex.build`; a query only normalises itself.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from rapidfuzz import fuzz, process

from peerbot.core.knowledge import CONSORTIA, GENERAL, Entry
from peerbot.core.synonyms import canonical
from peerbot.core.text import fold, stem, tokens

# Field weights: a word in a title or example question says more about an entry than one in its answer.
TITLE_WEIGHT = 1.0
QUESTION_WEIGHT = 1.0
TAG_WEIGHT = 0.9
ANSWER_WEIGHT = 0.6

COVERAGE_SHARE = 0.4  # the rest of the confidence comes from phrasing
UNKNOWN_WEIGHT = 0.8
OTHER_CONSORTIUM_FACTOR = 0.6  # a question naming a consortium is about it, not another or the overview
BROAD_BONUS = 0.05  # a one- or two-word question prefers the overview or glossary entry of its topic
PLP_BONUS = 0.03  # "the PLP on impact measurement": the partnership's overview, not the glossary term
ALL_PLPS_BONUS = 0.05  # "what did the PLPs learn": the entries that span them, not one consortium's
ALL_PLPS = frozenset(
    {"plps", "consortia", "partnerships", "consorcios", "partenariats", "consortiums", "consorzi",
     "partenariati", "parcerias", "partnerschaften", "konsortien"}
)  # fmt: skip
EVERY = frozenset(
    {
        "all",
        "each",
        "every",
        "todos",
        "todas",
        "tous",
        "toutes",
        "chaque",
        "cada",
        "tutti",
        "ogni",
        "alle",
        "jede",
    }
)
PLP_WORDS = frozenset(
    {"plp", "plps", "partnership", "partnerships", "consortium", "consortia", "partenariat", "consorcio",
     "asociacion", "parceria", "consorzio", "partenariato", "partnerschaft", "konsortium"}
)  # fmt: skip
CANDIDATES = 30
SCENARIO_TERMS = 10  # a question this long with two sentences or more is a scenario
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")
TIE = 0.005  # scores this close are a tie: never decided by the order of the files
WALK_LIMIT = 5000  # postings walked at most per word; only reached on bases of many thousands
PRUNE_POSTINGS = 2000  # below this many postings a word is always walked in full (the bundled base)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where confidence turns into an answer, an answer with alternatives, or a decline."""

    # Chosen on the blind set's dev half (bench/blind.py): below 0.40 declines fall faster than answers
    # rise; questions asking for a fact no entry gives are declined by peerbot.core.focus instead.
    answer: float = 0.40
    suggest: float = 0.35
    margin: float = 0.06  # a runner-up this close makes the answer "uncertain"


class Confidence(Enum):
    CONFIDENT = "confident"
    UNCERTAIN = "uncertain"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    score: float  # 0..1


@dataclass(frozen=True, slots=True)
class SearchResult:
    matches: tuple[Match, ...]  # best first
    confidence: Confidence

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


def _consortium_names() -> dict[str, str]:
    """Folded ways of naming each consortium ("silk", "diesis", "french impact") -> its canonical name."""
    names: dict[str, str] = {}
    for consortium in CONSORTIA:
        if consortium == GENERAL:
            continue
        for part in consortium.split("/"):
            names[fold(part)] = consortium
    return names


_CONSORTIUM_NAMES = _consortium_names()


def consortia_named(question: str) -> set[str]:
    """Consortia the question names, so "the SILK project" is not answered from another one."""
    padded = f" {fold(question)} "
    return {consortium for name, consortium in _CONSORTIUM_NAMES.items() if f" {name} " in padded}


def _is_broad(entry: Entry) -> bool:
    return "overview" in entry.tags or "glossary" in entry.tags


def _terms(text: str) -> list[str]:
    return [
        term
        for word in tokens(text)
        if len(word) > 1 or word.isdigit()
        for term in canonical(stem(word)).split()  # a compound ("wirkungsmessung") gives two
    ]


def _min_similarity(word: str) -> float:
    """Typo tolerance grows with word length: short words must match exactly."""
    if len(word) <= 3:
        return 100.0
    if len(word) == 4:
        return 74.0
    return 80.0


class KnowledgeIndex:
    """An immutable search index over a fixed list of entries."""

    def __init__(
        self,
        entries: tuple[Entry, ...],
        postings: dict[str, dict[int, float]],
        idf: dict[str, float],
        phrases: list[list[str]],
        thresholds: Thresholds,
    ) -> None:
        self.entries = entries
        self._postings = postings
        self._idf = idf
        self._vocabulary = sorted(postings)
        # For words in over WALK_LIMIT entries: the WALK_LIMIT strongest postings, in a stable order.
        self._strongest = {
            id(entries): sorted(entries, key=lambda position: (-entries[position], position))[:WALK_LIMIT]
            for entries in postings.values()
            if len(entries) > WALK_LIMIT
        }
        self._phrases = phrases
        # A word the knowledge base has never seen weighs like the rarest word, and a little more.
        self._unknown_idf = (math.log(1 + len(entries)) + 1.0) * UNKNOWN_WEIGHT
        self.thresholds = thresholds
        self._expand = lru_cache(maxsize=8192)(self._expand_uncached)

    @classmethod
    def build(cls, entries: Iterable[Entry], thresholds: Thresholds | None = None) -> KnowledgeIndex:
        """Normalise every field of every entry once."""
        ordered = tuple(entries)
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        phrases: list[list[str]] = []
        for position, entry in enumerate(ordered):
            weighted: list[tuple[str, float]] = [(entry.title, TITLE_WEIGHT), (entry.answer, ANSWER_WEIGHT)]
            weighted += [(question, QUESTION_WEIGHT) for question in entry.questions]
            weighted += [(tag, TAG_WEIGHT) for tag in entry.tags]
            for text, weight in weighted:
                for term in _terms(text):
                    if postings[term].get(position, 0.0) < weight:
                        postings[term][position] = weight
            phrases.append([" ".join(_terms(text)) for text in (entry.title, *entry.questions)])
        count = max(len(ordered), 1)
        idf = {term: math.log(1 + count / len(docs)) for term, docs in postings.items()}
        return cls(ordered, dict(postings), idf, phrases, thresholds or Thresholds())

    def __len__(self) -> int:
        return len(self.entries)

    def _expand_uncached(self, term: str) -> tuple[tuple[str, float], ...]:
        """Corpus words close enough to ``term`` to count as it, with their similarity 0..1."""
        if term in self._postings:
            return ((term, 1.0),)
        found = process.extract(
            term, self._vocabulary, scorer=fuzz.ratio, score_cutoff=_min_similarity(term), limit=3
        )
        return tuple((word, score / 100.0) for word, score, _ in found)

    def search(self, question: str, limit: int = 5) -> SearchResult:
        """Best entries for ``question`` and how sure the index is about the first.

        A scenario ("I run a network in Nairobi. We want to go abroad. What did SILK find?") is also
        scored on its last sentence alone, where the ask is: the context before it should add to an
        entry's score, never drown it. Each entry keeps the better of the two scores.
        """
        whole = self._search(question, limit)
        sentences = [part for part in _SENTENCE_END.split(question) if part.strip()]
        if len(sentences) < 2 or len(_terms(question)) < SCENARIO_TERMS:
            return whole
        ask = self._search(sentences[-1], limit)
        best: dict[str, Match] = {}
        for match in (*whole.matches, *ask.matches):
            if match.entry.id not in best or match.score > best[match.entry.id].score:
                best[match.entry.id] = match
        matches = tuple(sorted(best.values(), key=lambda m: -m.score)[:limit])
        return SearchResult(matches, self._confidence(matches)) if matches else whole

    def _search(self, question: str, limit: int) -> SearchResult:
        terms = list(dict.fromkeys(_terms(question)))
        if not terms:
            return SearchResult((), Confidence.DECLINED)
        coverage: dict[int, float] = defaultdict(float)
        total = 0.0
        expanded = [(term, self._expand(term)) for term in terms]
        weights = {
            term: max((self._idf[w] for w, _ in found), default=self._unknown_idf) for term, found in expanded
        }
        # Rarest words first: on a large base, a very common word then only adds to entries that
        # already matched something rarer instead of walking tens of thousands of postings.
        for term, expansions in sorted(expanded, key=lambda item: -weights[item[0]]):
            total += weights[term]
            postings = [(self._postings[word], self._idf[word] * sim * sim) for word, sim in expansions]
            walked = sum(len(entries) for entries, _ in postings)
            prune = coverage and walked > PRUNE_POSTINGS and walked > 8 * len(coverage)
            best_for_entry: dict[int, float] = {}
            for entries, gain in postings:
                if prune:
                    pairs = ((position, entries[position]) for position in coverage if position in entries)
                elif len(entries) > WALK_LIMIT:  # huge base: the strongest postings (titles, questions) first
                    pairs = ((position, entries[position]) for position in self._strongest[id(entries)])
                else:
                    pairs = iter(entries.items())
                for position, field_weight in pairs:
                    value = gain * field_weight
                    if value > best_for_entry.get(position, 0.0):
                        best_for_entry[position] = value
            for position, value in best_for_entry.items():
                coverage[position] += value
        if not coverage:
            return SearchResult((), Confidence.DECLINED)
        candidates = heapq.nsmallest(CANDIDATES, coverage.items(), key=lambda item: (-item[1], item[0]))
        query_text = " ".join(terms)
        named = consortia_named(question)
        broad = len(terms) <= 2  # "what is silk": the overview or glossary entry is the answer
        words = set(fold(question).split())
        about_a_plp = not PLP_WORDS.isdisjoint(words)
        # "which PLPs ...", "all the consortia": across the partnerships, so the General entries
        about_all = not named and (
            not ALL_PLPS.isdisjoint(words) or (about_a_plp and not EVERY.isdisjoint(words))
        )
        scored = []
        for position, covered in candidates:
            phrase = max(fuzz.token_sort_ratio(query_text, text) for text in self._phrases[position]) / 100.0
            score = COVERAGE_SHARE * min(covered / total, 1.0) + (1 - COVERAGE_SHARE) * phrase
            entry = self.entries[position]
            if named and entry.consortium not in named:
                score *= OTHER_CONSORTIUM_FACTOR
            if broad and _is_broad(entry):
                score = min(score + BROAD_BONUS, 1.0)
            if about_a_plp and "overview" in entry.tags:
                score = min(score + PLP_BONUS, 1.0)
            if about_all and entry.consortium == GENERAL:
                score = min(score + ALL_PLPS_BONUS, 1.0)
            scored.append((round(score, 6), position))
        scored.sort(key=lambda item: (-item[0], item[1]))
        scored = self._list_before_tied_items(scored)
        matches = tuple(Match(self.entries[position], score) for score, position in scored[:limit])
        return SearchResult(matches, self._confidence(matches))

    def _list_before_tied_items(self, scored: list[tuple[float, int]]) -> list[tuple[float, int]]:
        """Items of one list that tie ("silk tools" -> Tool 1, 2, 3 alike) give way to the list they share.

        A tie among siblings means the question is about what they have in common, which is the entry
        they all name in ``related``; without this, file order would pick one item.
        """
        if len(scored) < 2:
            return scored
        top = scored[0][0]
        tied = [position for score, position in scored if top - score <= TIE]
        if len(tied) < 2:
            return scored
        shared = set.intersection(*(set(self.entries[position].related) for position in tied))
        parents = [(score, position) for score, position in scored if self.entries[position].id in shared]
        if not parents:
            return scored
        parent = parents[0]
        return [(top, parent[1]), *((score, position) for score, position in scored if position != parent[1])]

    def _confidence(self, matches: tuple[Match, ...]) -> Confidence:
        top = matches[0].score
        if top < self.thresholds.answer:
            return Confidence.DECLINED
        if len(matches) > 1 and top - matches[1].score < self.thresholds.margin:
            return Confidence.UNCERTAIN
        return Confidence.CONFIDENT

    def titles_matching(self, prefix: str, limit: int = 25) -> list[Entry]:
        """Entries for autocomplete: title matches first, then fuzzy search; all when ``prefix`` is empty."""
        if not prefix.strip():
            return list(self.entries[:limit])
        folded = prefix.strip().casefold()
        starts = [entry for entry in self.entries if entry.title.casefold().startswith(folded)]
        rest = [match.entry for match in self.search(prefix, limit=limit).matches]
        return list(dict.fromkeys(starts + rest))[:limit]
