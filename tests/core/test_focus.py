"""What a question asks for: declined when the lessons never give that kind of fact, answered when they do.

The questions here are the project's own phrasings, one or two per kind of fact; the blind sets in
tests/data/blind/ measure how well this generalises (bench/blind.py).
"""

from __future__ import annotations

import pytest

from peerbot.core.focus import COUNTS, missing_focus, missing_text
from peerbot.core.knowledge import Entry
from peerbot.core.library import KnowledgeLibrary
from peerbot.core.qa import RUNNER_UP_GAP, Outcome, QuestionService
from peerbot.core.retrieval import Match


@pytest.fixture
def service(bundled_library: KnowledgeLibrary) -> QuestionService:
    return QuestionService(bundled_library)


def entry(bundled_library: KnowledgeLibrary, entry_id: str) -> Entry:
    found = bundled_library.base.get(entry_id)
    assert found is not None, entry_id
    return found


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Name the cities that took part in RRR", "names of the members"),
        ("¿Qué ciudades participaron en el proyecto RRR?", "names of the members"),
        ("How many women took part in the Impact Hub PLP?", COUNTS),
        ("How many countries took part in SILK?", COUNTS),  # the entry has numbers, none of countries
        ("What did Phase 1 of SILK produce?", "phase or tool"),  # the lessons speak of Phase 3 only
        ("Which platforms did the RRR cities create? Give me their names.", "names of the members"),
        ("On which exact day did RRR present its project?", "exact days"),
        ("What is the deadline to apply for the next PLP round?", "deadlines"),
        ("Which PLP was the most successful one?", "rankings"),
        ("Give me the complete list of indicators in SILK's Tool 3", "detailed contents"),
        ("What does the social economy law of Portugal say about cooperatives?", "single country"),
        ("Can you share a recording of the Social Value presentation?", "files"),
        ("What is the membership fee of the Social Value network?", "money"),
        ("$$ per PLP?", "money"),  # the currency sign alone says money
        ("Was kostet die Mitgliedschaft im DIESIS-Netzwerk?", "money"),
        ("How can our city join the RRR project?", "step-by-step"),
        ("Il mio comune può entrare nel progetto RRR? Qual è la procedura?", "step-by-step"),
        ("Who is the contact person at CEPES for PL4SE?", "people"),
        ("Is there a recipe for the social economy cake the PLPs served?", "weather, recipes"),
    ],
)
async def test_a_question_for_a_fact_the_lessons_never_give_is_declined_naming_it(
    service: QuestionService, question: str, kind: str
) -> None:
    result = await service.ask(question)
    assert result.outcome is Outcome.DECLINED, (question, result.entry)
    assert result.missing is not None and kind in result.missing, result.missing
    assert missing_text(result.missing).startswith("I don't know that: the PLP lessons")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which countries were compared in PL4SE?", "pl4se-overview"),  # the answer names them
        ("How many cities take part in RRR?", "rrr-overview"),  # "9 cities"
        ("¿Cuántas lecciones aprendió SILK?", "silk-lessons-overview"),  # "23 lessons"
        ("What did Phase 3 of SILK produce?", "silk-tools-overview"),
        ("When did French Impact present its results?", "french-impact-overview"),  # Dec. 2nd, 2021
        ("What tools did SILK produce?", "silk-tools-overview"),
        ("How can I join the conversation?", "overview-join-the-conversation"),  # not joining a PLP
        ("O que os membros do SILK aprenderam sobre internacionalização?", None),  # no names asked
    ],
)
async def test_the_same_kinds_of_question_are_answered_where_the_lessons_give_the_fact(
    service: QuestionService, question: str, expected: str | None
) -> None:
    result = await service.ask(question)
    assert result.missing is None, (question, result.missing)
    if expected is not None:
        assert result.entry is not None and result.entry.id == expected


def test_names_are_given_by_a_list_of_names_not_by_a_count(bundled_library: KnowledgeLibrary) -> None:
    question = "Which countries took part?"
    assert missing_focus(question, entry(bundled_library, "pl4se-overview")) is None  # EU27, Brazil, ...
    assert missing_focus(question, entry(bundled_library, "french-impact-overview")) is not None  # "9"


def test_a_runner_up_that_gives_the_fact_is_shown_instead_of_a_decline(
    bundled_library: KnowledgeLibrary,
) -> None:
    """The best entry lacks the names asked for, a close second has them: it is the one to show."""
    question = "Which countries were involved?"
    lacks, gives = entry(bundled_library, "pl4se-key-drivers"), entry(bundled_library, "pl4se-overview")
    thresholds = bundled_library.index.thresholds
    close = (Match(lacks, 0.70), Match(gives, 0.66))
    assert QuestionService._gives_the_focus(question, close, thresholds) is close[1]
    far = (Match(lacks, 0.70), Match(gives, 0.70 - RUNNER_UP_GAP - 0.01))
    assert QuestionService._gives_the_focus(question, far, thresholds) is None
