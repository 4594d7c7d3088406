"""The question service: outcomes, suggestions, bad input and the unanswered hook."""

from __future__ import annotations

import pytest

from peerbot.core.qa import MAX_QUESTION, Outcome, QuestionService, UnknownConsortium


async def test_answered(sample_service: QuestionService) -> None:
    result = await sample_service.ask("What are the SDGs?")
    assert result.outcome is Outcome.ANSWERED
    assert result.entry is not None and result.entry.id == "glossary-sdgs"


async def test_declined_offers_no_wrong_answer(sample_service: QuestionService) -> None:
    result = await sample_service.ask("what's the weather in Lisbon")
    assert result.outcome is Outcome.DECLINED
    assert result.entry is None
    assert len(result.suggestions) <= 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Ask me a question"),
        ("   \n\t ", "Ask me a question"),
        ("x" * 4000, "4,000 characters long"),
        ("🎉🔥🙂", "I need a few words"),
        ("\u200b\u200b\u200d", "Ask me a question"),
        ("what is it?", "no words I can search for"),
    ],
)
async def test_bad_input_gets_a_polite_answer(
    sample_service: QuestionService, text: str, expected: str
) -> None:
    result = await sample_service.ask(text)
    assert result.outcome is Outcome.INVALID
    assert expected in (result.problem or "")


async def test_question_at_the_limit_is_searched(sample_service: QuestionService) -> None:
    result = await sample_service.ask(("sdgs " * MAX_QUESTION)[:MAX_QUESTION])
    assert result.outcome is not Outcome.INVALID


async def test_mentions_and_markdown_are_just_words(sample_service: QuestionService) -> None:
    result = await sample_service.ask("@everyone <@&123> **what** are the `SDGs`?")
    assert result.entry is not None and result.entry.id == "glossary-sdgs"


async def test_unanswered_hook_gets_declines_only(sample_dir) -> None:
    from peerbot.core.library import KnowledgeLibrary

    seen = []

    async def hook(question, outcome, guild_id):
        seen.append((question, outcome, guild_id))

    service = QuestionService(KnowledgeLibrary(sample_dir), on_unanswered=hook)
    await service.ask("What are the SDGs?", guild_id=1)
    await service.ask("best pizza in Naples", guild_id=7)
    assert seen == [("best pizza in Naples", Outcome.DECLINED, 7)]


async def test_failing_hook_does_not_cost_the_answer(sample_dir) -> None:
    from peerbot.core.library import KnowledgeLibrary

    async def broken(*_):
        raise RuntimeError("disk full")

    service = QuestionService(KnowledgeLibrary(sample_dir), on_unanswered=broken)
    result = await service.ask("best pizza in Naples")
    assert result.outcome is Outcome.DECLINED


def test_topics_grouped_and_filtered(sample_service: QuestionService) -> None:
    names = [topic.consortium for topic in sample_service.topics()]
    assert names == ["CEPES / PL4SE", "UpSocial / RRR", "General"]
    (only,) = sample_service.topics("rrr")
    assert only.consortium == "UpSocial / RRR" and [e.id for e in only.entries] == ["rrr-overview"]


def test_unknown_consortium_lists_the_valid_ones(sample_service: QuestionService) -> None:
    with pytest.raises(UnknownConsortium, match="French Impact"):
        sample_service.topics("nowhere")


def test_reload_keeps_last_good_knowledge(sample_dir) -> None:
    from peerbot.core.library import KnowledgeLibrary

    library = KnowledgeLibrary(sample_dir)
    (sample_dir / "broken.yaml").write_text("entries: [oops", encoding="utf-8")
    report = library.reload()
    assert not report.ok and "YAML syntax error" in str(report.problems[0])
    assert len(library.base) == 3 and library.index.search("SDGs").best is not None
    (sample_dir / "broken.yaml").unlink()
    assert library.reload().ok


@pytest.mark.parametrize("name", ["x" * 1900, "Atlantis " * 250, "\u200bAtlantis" * 200])
def test_a_huge_consortium_name_is_refused_in_a_short_message(
    sample_service: QuestionService, name: str
) -> None:
    """/topics with 1,900 characters used to echo them all: a reply over 2,000 characters (a 400)."""
    with pytest.raises(UnknownConsortium) as refused:
        sample_service.topics(name)
    assert len(str(refused.value)) <= 300
    assert "Try one of: DIESIS / SILK" in str(refused.value)


def test_an_invisible_consortium_filter_lists_every_topic(sample_service: QuestionService) -> None:
    assert sample_service.topics("\u200b" * 1900) == sample_service.topics(None)
