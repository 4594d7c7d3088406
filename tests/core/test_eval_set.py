"""Answer quality on the project's evaluation set, against the bundled knowledge.

The set (tests/data/eval_questions.yaml) holds members' questions in their own words, with typos,
keyword fragments and French/Spanish, plus questions PeerBot must decline. The thresholds are the
issue's acceptance bar; bench/ reports the same figures in detail, beside baselines.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from peerbot.core.library import KnowledgeLibrary
from peerbot.core.qa import QuestionService

EVAL_SET = Path(__file__).resolve().parents[1] / "data" / "eval_questions.yaml"


def load_eval_set() -> list[dict]:
    return yaml.safe_load(EVAL_SET.read_text(encoding="utf-8"))["questions"]


def test_eval_set_is_big_enough_and_points_at_real_entries(bundled_library: KnowledgeLibrary) -> None:
    questions = load_eval_set()
    answerable = [q for q in questions if q["expect"] is not None]
    assert len(answerable) >= 60 and len(questions) - len(answerable) >= 15
    missing = [q["expect"] for q in answerable if bundled_library.base.get(q["expect"]) is None]
    assert missing == []


@pytest.fixture(scope="module")
def outcomes(bundled_library: KnowledgeLibrary) -> list[tuple[dict, str | None]]:
    service = QuestionService(bundled_library)

    async def answer_all() -> list[tuple[dict, str | None]]:
        results = []
        for item in load_eval_set():
            result = await service.ask(item["q"])
            results.append((item, result.entry.id if result.entry else None))
        return results

    return asyncio.run(answer_all())


def test_top1_accuracy_at_least_90_percent(outcomes: list[tuple[dict, str | None]]) -> None:
    answerable = [(item, got) for item, got in outcomes if item["expect"] is not None]
    wrong = [(item["q"], item["expect"], got) for item, got in answerable if got != item["expect"]]
    accuracy = 1 - len(wrong) / len(answerable)
    assert accuracy >= 0.90, f"top-1 accuracy {accuracy:.3f}; wrong: {wrong}"


def test_correct_declines_at_least_90_percent(outcomes: list[tuple[dict, str | None]]) -> None:
    declines = [(item, got) for item, got in outcomes if item["expect"] is None]
    answered = [(item["q"], got) for item, got in declines if got is not None]
    rate = 1 - len(answered) / len(declines)
    assert rate >= 0.90, f"correct declines {rate:.3f}; answered instead: {answered}"
