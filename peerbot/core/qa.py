"""Answering members' questions: the service both front-ends call for /ask and /topics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from peerbot.core.focus import COUNTS, missing_focus
from peerbot.core.knowledge import CONSORTIA, Entry
from peerbot.core.library import KnowledgeLibrary
from peerbot.core.retrieval import Confidence, Match, Thresholds
from peerbot.core.text import fold, strip_chat_markup, strip_invisible, tokens

log = logging.getLogger(__name__)

MAX_QUESTION = 1000  # characters; longer pastes are refused with this limit named
MAX_SUGGESTIONS = 3
RUNNER_UP_GAP = 0.08  # how far below the best a runner-up may be and still answer a focus it lacks
MAX_CONSORTIUM_NAME = 60  # the longest way to name a consortium is far shorter; longer is never echoed


class Outcome(Enum):
    ANSWERED = "answered"  # confident: the best entry
    UNCERTAIN = "uncertain"  # the best entry, with close alternatives offered
    DECLINED = "declined"  # nothing good enough; alternatives offered if any
    INVALID = "invalid"  # the input is not a question we can search (empty, too long, emoji only)


@dataclass(frozen=True, slots=True)
class AskResult:
    question: str
    outcome: Outcome
    matches: tuple[Match, ...] = ()  # up to 5, best first, whatever the outcome
    suggestions: tuple[Entry, ...] = ()  # "did you mean" entries
    problem: str | None = None  # for INVALID: what to tell the member
    missing: str | None = None  # for DECLINED: the kind of fact asked for that no entry gives

    @property
    def entry(self) -> Entry | None:
        """The entry to show, when there is an answer."""
        if self.outcome in (Outcome.ANSWERED, Outcome.UNCERTAIN) and self.matches:
            return self.matches[0].entry
        return None


@dataclass(frozen=True, slots=True)
class Topic:
    consortium: str
    entries: tuple[Entry, ...]


class UnknownConsortium(ValueError):
    """A /topics filter that names no consortium; the message lists the valid ones."""


# Called with (question, outcome, guild id) for every declined or uncertain question.
UnansweredHook = Callable[[str, Outcome, int | None], Awaitable[None]]
# Called with (entry id, guild id) for every answer shown, so editors see what is asked most.
AnsweredHook = Callable[[str, int | None], Awaitable[None]]


class QuestionService:
    """Turns a member's text into an :class:`AskResult` using the library's current index."""

    def __init__(
        self,
        library: KnowledgeLibrary,
        on_unanswered: UnansweredHook | None = None,
        on_answered: AnsweredHook | None = None,
    ) -> None:
        self.library = library
        self._on_unanswered = on_unanswered
        self._on_answered = on_answered

    async def ask(self, text: str, *, guild_id: int | None = None) -> AskResult:
        question = strip_invisible(text).strip()
        problem = self._problem_with(question)
        if problem:
            return AskResult(question[:200], Outcome.INVALID, problem=problem)
        index = self.library.index
        result = index.search(strip_chat_markup(question), limit=5)
        thresholds = index.thresholds
        if result.confidence is not Confidence.DECLINED:
            searchable = strip_chat_markup(question)
            missing = missing_focus(searchable, result.matches[0].entry)
            weak = missing in (None, COUNTS)  # any number "gives" a count: no reason to pick another entry
            giver = None if weak else self._gives_the_focus(searchable, result.matches, thresholds)
            if giver is not None:  # a close runner-up gives what is asked: show it, unsure, with the rest
                rest = tuple(m.entry for m in result.matches if m is not giver)[:MAX_SUGGESTIONS]
                await self._report(question, Outcome.UNCERTAIN, guild_id)
                await self._served(giver.entry.id, guild_id)
                reordered = (giver, *(m for m in result.matches if m is not giver))
                return AskResult(question, Outcome.UNCERTAIN, reordered, rest)
            if missing:  # the topic is known, what is asked of it is not: say so, offer the topic
                await self._report(question, Outcome.DECLINED, guild_id)
                nearby = tuple(
                    m.entry for m in result.matches[:MAX_SUGGESTIONS] if m.score >= thresholds.suggest
                )
                return AskResult(question, Outcome.DECLINED, result.matches, nearby, missing=missing)
        if result.confidence is Confidence.CONFIDENT:
            await self._served(result.matches[0].entry.id, guild_id)
            return AskResult(question, Outcome.ANSWERED, result.matches)
        if result.confidence is Confidence.UNCERTAIN:
            close = tuple(
                match.entry
                for match in result.matches[1:]
                if result.matches[0].score - match.score < thresholds.margin * 2
            )[:MAX_SUGGESTIONS]
            await self._report(question, Outcome.UNCERTAIN, guild_id)
            await self._served(result.matches[0].entry.id, guild_id)
            return AskResult(question, Outcome.UNCERTAIN, result.matches, close)
        suggestions = tuple(m.entry for m in result.matches if m.score >= thresholds.suggest)[
            :MAX_SUGGESTIONS
        ]
        await self._report(question, Outcome.DECLINED, guild_id)
        return AskResult(question, Outcome.DECLINED, result.matches, suggestions)

    @staticmethod
    def _gives_the_focus(question: str, matches: tuple[Match, ...], thresholds: Thresholds) -> Match | None:
        """A runner-up close to the best that gives the kind of fact the best one lacks, if any."""
        best = matches[0].score
        for match in matches[1:MAX_SUGGESTIONS]:
            if best - match.score > RUNNER_UP_GAP or match.score < thresholds.answer:
                break
            if missing_focus(question, match.entry) is None:
                return match
        return None

    @staticmethod
    def _problem_with(question: str) -> str | None:
        if not question:
            return "Ask me a question about the PLP lessons, for example: *What is the RRR project?*"
        if len(question) > MAX_QUESTION:
            return (
                f"That question is {len(question):,} characters long; please keep it under "
                f"{MAX_QUESTION:,} characters and ask one thing at a time."
            )
        searchable = strip_chat_markup(question)
        if not fold(searchable):
            return "I need a few words to search for: try asking in a sentence."
        if not tokens(searchable):
            return (
                "That question has no words I can search for; try naming a topic, like *impact measurement*."
            )
        return None

    async def _report(self, question: str, outcome: Outcome, guild_id: int | None) -> None:
        if self._on_unanswered is not None:
            try:
                await self._on_unanswered(question, outcome, guild_id)
            except Exception:  # a failing log must never cost the member their answer
                log.exception("Recording an unanswered question failed")

    async def _served(self, entry_id: str, guild_id: int | None) -> None:
        if self._on_answered is not None:
            try:
                await self._on_answered(entry_id, guild_id)
            except Exception:  # counting must never cost the member their answer
                log.exception("Counting an answer served failed")

    def entry(self, entry_id: str) -> Entry | None:
        return self.library.base.get(entry_id)

    def complete(self, partial: str, limit: int = 25) -> list[Entry]:
        """Entries whose title fits what the member has typed so far (autocomplete)."""
        return self.library.index.titles_matching(partial[:MAX_QUESTION], limit)

    def resolve_consortium(self, name: str) -> str:
        """The canonical consortium for a loose name ("rrr", "pl4se", "french impact")."""
        text = strip_invisible(name).strip()
        valid = ", ".join(CONSORTIA)
        if len(text) > MAX_CONSORTIUM_NAME:  # echoing it could exceed a chat message's limit
            raise UnknownConsortium(
                f"That consortium name is {len(text):,} characters long; none is longer than "
                f"{MAX_CONSORTIUM_NAME}. Try one of: {valid}."
            )
        wanted = fold(text)
        for consortium in CONSORTIA:
            parts = [fold(part) for part in consortium.split("/")] + [fold(consortium)]
            if wanted in parts or any(wanted and wanted in part.split() for part in parts):
                return consortium
        raise UnknownConsortium(f"I don't know the consortium '{text}'. Try one of: {valid}.")

    def topics(self, consortium: str | None = None) -> list[Topic]:
        """Entries grouped by consortium, optionally just one consortium."""
        base = self.library.base
        wanted = strip_invisible(consortium or "").strip()
        names = [self.resolve_consortium(wanted)] if wanted else base.consortia()
        return [Topic(name, tuple(base.in_consortium(name))) for name in names]
