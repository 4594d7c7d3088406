"""/kb gaps: the unanswered questions asked most, near-duplicates grouped, per server."""

from __future__ import annotations

from pathlib import Path

from peerbot.core.gaps import group_questions
from peerbot.core.services import Services


def test_near_duplicates_are_grouped_and_counted() -> None:
    gaps = group_questions(
        [
            "What's the weather in Lisbon?",
            "whats the weather in lisbon",
            "What is the weather in Lisbon",
            "How do I join the newsletter?",
            "best pizza in Naples",
            "How do I join the newsletter",
        ]
    )
    assert [(gap.count, gap.wordings) for gap in gaps] == [(3, 3), (2, 2), (1, 1)]
    assert "Lisbon" in gaps[0].question and "newsletter" in gaps[1].question


def test_limit_and_empty_questions() -> None:
    assert group_questions(["🎉", "  "]) == []
    assert (
        len(
            group_questions(
                [
                    "pizza",
                    "football results",
                    "train timetable",
                    "cinema tonight",
                    "lottery numbers",
                    "weather",
                ],
                limit=5,
            )
        )
        == 5
    )


async def test_gaps_are_per_server(tmp_path: Path, sample_dir: Path) -> None:
    services = await Services.open(sample_dir, tmp_path / "db.sqlite3")
    try:
        for _ in range(2):
            await services.questions.ask("what's the weather in Lisbon", guild_id=1)
        await services.questions.ask("best pizza in Naples", guild_id=2)
        await services.questions.ask("what are the SDGs?", guild_id=1)  # answered: not a gap
        gaps = await services.gaps.frequent(1)
        assert [(gap.question, gap.count) for gap in gaps] == [("what's the weather in Lisbon", 2)]
        assert [gap.question for gap in await services.gaps.frequent(2)] == ["best pizza in Naples"]
        assert await services.gaps.frequent(None) == []
    finally:
        await services.close()
