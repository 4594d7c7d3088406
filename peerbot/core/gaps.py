"""What the knowledge base is missing: the questions asked most often that PeerBot could not answer.

Members ask the same thing in many wordings, so questions are folded (case, accents, punctuation)
and near-duplicates grouped by rapidfuzz similarity before counting: "weather in Lisbon?" and
"whats the weather in lisbon" are one gap asked twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from peerbot.core.text import fold, strip_chat_markup
from peerbot.core.unanswered import UnansweredLog

SIMILARITY = 85  # token_sort_ratio at or above which two folded questions are the same gap
RECENT = 1000  # questions looked at: the latest ones say most about what is missing now


@dataclass(frozen=True, slots=True)
class Gap:
    question: str  # the most frequent wording, as a member typed it
    count: int  # how many times the gap was asked, all wordings together
    wordings: int  # how many different wordings were grouped


def group_questions(questions: list[str], limit: int = 10, similarity: int = SIMILARITY) -> list[Gap]:
    """Near-duplicate questions grouped, most asked first (ties: most recent first, as given)."""
    by_key: dict[str, Counter[str]] = {}
    for question in questions:
        key = fold(strip_chat_markup(question))
        if key:
            by_key.setdefault(key, Counter())[question.strip()] += 1
    keys = sorted(by_key, key=lambda k: -sum(by_key[k].values()))  # stable: recent first among ties
    representatives: list[str] = []
    groups: list[Counter[str]] = []
    for key in keys:
        found = process.extractOne(
            key, representatives, scorer=fuzz.token_sort_ratio, score_cutoff=similarity
        )
        if found is None:
            representatives.append(key)
            groups.append(Counter(by_key[key]))
        else:
            groups[found[2]].update(by_key[key])
    gaps = [Gap(group.most_common(1)[0][0], sum(group.values()), len(group)) for group in groups]
    gaps.sort(key=lambda gap: -gap.count)
    return gaps[:limit]


class KnowledgeGaps:
    """/kb gaps: reads the unanswered log of one server and groups it."""

    def __init__(self, log: UnansweredLog) -> None:
        self._log = log

    async def frequent(self, guild_id: int | None, limit: int = 10) -> list[Gap]:
        questions = await self._log.recent(guild_id, RECENT)
        return await asyncio.to_thread(group_questions, questions, limit)


def gap_lines(gaps: list[Gap]) -> list[str]:
    """One plain line per gap, the same in both front-ends (the adapter escapes members' text)."""
    lines = []
    for number, gap in enumerate(gaps, start=1):
        line = f"{number}. {gap.question[:200]} (asked {gap.count}×"
        line += f" in {gap.wordings} wordings)" if gap.wordings > 1 else ")"
        lines.append(line)
    return lines
