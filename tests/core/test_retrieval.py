"""The index on the small sample knowledge base: ranking, typos, declines and determinism."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerbot.core.knowledge import Entry
from peerbot.core.knowledge_loader import load_knowledge
from peerbot.core.library import KnowledgeLibrary
from peerbot.core.retrieval import Confidence, KnowledgeIndex


def index_of(sample_dir: Path) -> KnowledgeIndex:
    return KnowledgeIndex.build(load_knowledge(sample_dir).entries)


def top(index: KnowledgeIndex, question: str) -> str | None:
    best = index.search(question).best
    return best.entry.id if best else None


def test_paraphrase_finds_entry(sample_dir: Path) -> None:
    index = index_of(sample_dir)
    assert top(index, "tell me about the Respond Rebuild Reinvent cities") == "rrr-overview"
    assert top(index, "what do legal frameworks need to support social economy") == "pl4se-drivers"


def test_typos_and_missing_accents_are_tolerated(sample_dir: Path) -> None:
    index = index_of(sample_dir)
    assert top(index, "leagl ecosytem drivres") == "pl4se-drivers"
    assert top(index, "que es el proyecto rrr") == "rrr-overview"


def test_confident_answer(sample_dir: Path) -> None:
    result = index_of(sample_dir).search("What does SDGs stand for?")
    assert result.confidence is Confidence.CONFIDENT
    assert result.best is not None and result.best.score > 0.9


def test_off_topic_and_gibberish_are_declined(sample_dir: Path) -> None:
    index = index_of(sample_dir)
    for question in ("what's the weather in Lisbon", "asdkjh qwpoe zzzx", "best pizza recipe"):
        assert index.search(question).confidence is Confidence.DECLINED, question


def test_question_of_only_stop_words_matches_nothing(sample_dir: Path) -> None:
    result = index_of(sample_dir).search("what is it?")
    assert result.matches == () and result.confidence is Confidence.DECLINED


def test_scores_are_sorted_and_bounded(sample_dir: Path) -> None:
    matches = index_of(sample_dir).search("social economy cities sdgs").matches
    scores = [match.score for match in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores)


def test_ties_are_broken_by_knowledge_order() -> None:
    twin = dict(
        consortium="General",
        tags=("same",),
        questions=("same q", "same q2", "same q3"),
        answer="Same words.",
        source="s",
    )
    entries = [Entry(id=f"e{n}", title="Same", **twin) for n in range(5)]
    index = KnowledgeIndex.build(entries)
    for _ in range(3):
        assert [m.entry.id for m in index.search("same").matches] == ["e0", "e1", "e2", "e3", "e4"]
    assert index.search("same").confidence is Confidence.UNCERTAIN


def test_autocomplete_prefers_title_prefix(sample_dir: Path) -> None:
    index = index_of(sample_dir)
    assert index.titles_matching("Key dri")[0].id == "pl4se-drivers"
    assert len(index.titles_matching("")) == 3


def test_search_does_not_reread_or_renormalise_corpus(sample_dir: Path, monkeypatch) -> None:
    index = index_of(sample_dir)
    calls = []
    import peerbot.core.retrieval as retrieval

    original = retrieval.tokens
    monkeypatch.setattr(retrieval, "tokens", lambda text: calls.append(text) or original(text))
    index.search("sdgs and cities")
    assert calls == ["sdgs and cities"]  # only the query is normalised


def test_a_named_consortium_wins_over_a_shared_word(bundled_library) -> None:
    """'project' is RRR's word, but a question about the SILK project is about SILK."""
    best = bundled_library.index.search("what is the SILK project about").best
    assert best is not None and best.entry.consortium == "DIESIS / SILK"


def test_short_question_prefers_the_overview_or_glossary(bundled_library) -> None:
    best = bundled_library.index.search("what is silk").best
    assert best is not None and best.entry.id in {"glossary-silk", "silk-overview"}


def test_consortia_named_reads_names_and_acronyms() -> None:
    from peerbot.core.retrieval import consortia_named

    assert consortia_named("Qué hizo French Impact con UpSocial?") == {"French Impact", "UpSocial / RRR"}
    assert consortia_named("impact measurement in general") == set()


def test_a_question_about_a_partnership_gets_its_overview_not_the_glossary_term(
    bundled_library: KnowledgeLibrary,
) -> None:
    """ "The internationalisation consortium" is SILK, not the definition of internationalisation."""
    found = bundled_library.index.search("what was the internationalisation consortium about?")
    assert found.matches[0].entry.id == "silk-overview"
    plain = bundled_library.index.search("what is internationalisation?")  # no partnership asked for
    assert plain.matches[0].entry.id == "glossary-internationalisation"


def test_a_scenario_is_scored_on_its_ask_not_drowned_by_its_context(
    bundled_library: KnowledgeLibrary,
) -> None:
    question = (
        "I coordinate a housing network in Lyon with forty members and a small team of volunteers. "
        "Our board keeps talking about selling services to neighbouring regions. "
        "What tools did SILK produce?"
    )
    found = bundled_library.index.search(question)
    assert found.best is not None and found.best.entry.id == "silk-tools-overview"
    assert found.confidence is not Confidence.DECLINED


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what did all the consortia learn?", "overview-what-the-plps-learned"),
        ("what did each PLP recommend?", "overview-policy-recommendations"),
    ],
)
def test_a_question_across_the_partnerships_gets_the_entry_that_spans_them(
    bundled_library: KnowledgeLibrary, question: str, expected: str
) -> None:
    best = bundled_library.index.search(question).best
    assert best is not None and best.entry.id == expected
