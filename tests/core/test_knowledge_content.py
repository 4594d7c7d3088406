"""The bundled knowledge speaks to members, says only what the source says, and finds its own questions.

Members do not know there is a source document, so no answer talks about it; every number in an
answer is one the source has; a hedge of the source ("seems", "could", "explore") survives quoting;
and every example question finds its own entry first, so no two entries compete for one question.
"""

from __future__ import annotations

import re
from pathlib import Path

from peerbot.core.library import KnowledgeLibrary
from peerbot.core.text import fold

# A copy of the PLP lessons document the knowledge base is curated from, so CI checks against it too.
SOURCE = Path(__file__).resolve().parents[1] / "data" / "source" / "plp-lessons-2021.txt"
ABOUT_THE_DOCUMENT = re.compile(
    r"\b(?:document|extract\w*|layout|slides?|cut off|typos?|printed|quotation marks|the text available)\b",
    re.IGNORECASE,
)
HEDGES = ("seems", "could", "explore", "understand", "many", "mainly", "can help")


def test_no_answer_or_title_talks_about_the_document(bundled_library: KnowledgeLibrary) -> None:
    found = [
        (entry.id, match.group(0))
        for entry in bundled_library.base.entries
        for text in (entry.answer, entry.title, *entry.questions)
        for match in ABOUT_THE_DOCUMENT.finditer(text)
    ]
    assert found == []


def test_every_example_question_finds_its_own_entry_first(bundled_library: KnowledgeLibrary) -> None:
    index = bundled_library.index
    lost = []
    for entry in bundled_library.base.entries:
        for question in entry.questions:
            best = index.search(question).best
            if best is None or best.entry.id != entry.id:
                lost.append((entry.id, question, best.entry.id if best else None))
    assert lost == []


def test_every_number_in_an_answer_is_in_the_source(bundled_library: KnowledgeLibrary) -> None:
    source_numbers = set(re.findall(r"\d+", SOURCE.read_text(encoding="utf-8")))
    invented = [
        (entry.id, number)
        for entry in bundled_library.base.entries
        for number in re.findall(r"\d+", re.sub(r"\S+@\S+|www\.\S+|https?://\S+", " ", entry.answer))
        if number not in source_numbers
    ]
    assert invented == []


def _words(text: str) -> list[str]:
    """Folded words with British and American spellings met (recognised/recognized)."""
    return [re.sub(r"is(ed|es|e|ing|ation)$", r"iz\1", word) for word in fold(text).split()]


def test_answers_that_quote_a_hedged_sentence_keep_its_hedge(bundled_library: KnowledgeLibrary) -> None:
    source = _words(SOURCE.read_text(encoding="utf-8"))
    dropped = []
    for entry in bundled_library.base.entries:
        answer = " " + " ".join(_words(entry.answer)) + " "
        for position in range(len(source)):
            for hedge in HEDGES:
                words = hedge.split()
                if source[position : position + len(words)] != words:
                    continue
                quoted = " ".join(source[position + len(words) : position + len(words) + 3])
                at = answer.find(f" {quoted} ")
                if len(quoted.split()) == 3 and at >= 0 and hedge not in answer[max(0, at - 40) : at + 1]:
                    dropped.append((entry.id, hedge, quoted))
    assert dropped == []
