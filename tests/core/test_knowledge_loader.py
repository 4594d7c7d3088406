"""Loading and validation: every kind of problem is reported with its file, entry and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerbot.core.knowledge_loader import KnowledgeError, load_knowledge, read_directory
from tests.conftest import BUNDLED_KNOWLEDGE, SAMPLE_YAML, write_knowledge

ENTRY = """\
entries:
  - id: one
    title: One
    consortium: General
    tags: [a]
    questions: [q1, q2, q3]
    answer: An answer.
    source: "General: heading"
"""


def problems_for(tmp_path: Path, text: str) -> list[str]:
    write_knowledge(tmp_path, text)
    _, problems = read_directory(tmp_path)
    return [str(problem) for problem in problems]


def test_sample_loads_in_file_order(sample_dir: Path) -> None:
    base = load_knowledge(sample_dir)
    assert [entry.id for entry in base] == ["rrr-overview", "glossary-sdgs", "pl4se-drivers"]
    assert base.get("glossary-sdgs").answer.startswith("The **Sustainable")
    assert base.get("rrr-overview").related == ("glossary-sdgs",)


def test_valid_entry_has_no_problems(tmp_path: Path) -> None:
    assert problems_for(tmp_path, ENTRY) == []


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, ENTRY + "  - id: [unclosed\n")
    assert len(problems) == 1
    assert problems[0].startswith("sample.yaml:10")
    assert "YAML syntax error" in problems[0]


def test_missing_field(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, ENTRY.replace('    source: "General: heading"\n', ""))
    assert problems == ["sample.yaml:2 [one]: missing field 'source'"]


def test_unknown_field(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, ENTRY + "    author: me\n")
    assert len(problems) == 1 and "unknown field 'author'" in problems[0] and "[one]" in problems[0]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("tags: [a]", "tags: a", "'tags' must be a list of non-empty texts"),
        ("title: One", "title: 12", "'title' must be a non-empty text, got int"),
        ("questions: [q1, q2, q3]", "questions: [q1]", "'questions' has 1; give at least 3"),
        ("consortium: General", "consortium: Nowhere", "unknown consortium 'Nowhere'"),
        ("id: one", "id: One Two", "'id' must be a lowercase slug"),
    ],
)
def test_wrong_types_and_values(tmp_path: Path, old: str, new: str, expected: str) -> None:
    problems = problems_for(tmp_path, ENTRY.replace(old, new))
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_over_long_answer(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, ENTRY.replace("An answer.", "x" * 1501))
    assert problems == ["sample.yaml:2 [one]: 'answer' is 1501 characters; the limit is 1500"]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write_knowledge(tmp_path, ENTRY, "a.yaml")
    write_knowledge(tmp_path, ENTRY, "b.yaml")
    _, problems = read_directory(tmp_path)
    assert [str(p) for p in problems] == ["b.yaml:2 [one]: duplicate id, also used in a.yaml"]


def test_related_must_exist(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, ENTRY + "    related: [nowhere]\n")
    assert problems == ["sample.yaml:2 [one]: 'related' names 'nowhere', which does not exist"]


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = ENTRY + "  - id: two\n    title: Two\n  - just text\n"
    problems = problems_for(tmp_path, text)
    assert len(problems) == 6  # five missing fields of 'two' and the non-mapping entry
    assert any("entry #3 must be a mapping" in p for p in problems)


def test_load_raises_with_all_problems(tmp_path: Path) -> None:
    write_knowledge(tmp_path, "entries: 3\n")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    assert "must be a mapping with an 'entries' list" in str(caught.value.problems[0])


def test_missing_directory(tmp_path: Path) -> None:
    _, problems = read_directory(tmp_path / "nope")
    assert "knowledge directory not found" in str(problems[0])


def test_sample_yaml_round_trips_unicode(sample_dir: Path) -> None:
    base = load_knowledge(sample_dir)
    assert "¿Qué es el proyecto RRR?" in base.get("rrr-overview").questions
    assert SAMPLE_YAML.count("- id:") == len(base)


def test_bundled_knowledge_is_valid_and_complete() -> None:
    entries, problems = read_directory(BUNDLED_KNOWLEDGE)
    assert problems == []
    assert 50 <= len(entries) <= 90
    consortia = {entry.consortium for entry in entries}
    assert consortia == {
        "DIESIS / SILK",
        "Impact Hub",
        "CEPES / PL4SE",
        "French Impact",
        "Social Value",
        "UpSocial / RRR",
        "General",
    }


# -- input the bot accepted but could not handle -----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("id: one", "id: " + "a" * 150, "'id' is 150 characters; the limit is 64"),
        ("title: One", 'title: "\\u200b\\u200d"', "'title' needs at least one letter or digit"),
        ("title: One", 'title: "!!!"', "'title' needs at least one letter or digit"),
        ("source: ", "related: [one]\n    source: ", "'related' lists the entry itself"),
    ],
)
def test_ids_titles_and_self_references_that_break_discord_are_problems(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """A 150-character id fails every button that carries it; a self-reference can never be removed."""
    problems = problems_for(tmp_path, ENTRY.replace(old, new, 1))
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_an_answer_of_exactly_the_limit_in_a_block_is_accepted(tmp_path: Path) -> None:
    """A ``|`` block ends with a newline: the limit counts the answer, not YAML's line break."""
    block = "answer: |\n      " + "x" * 1500 + "\n"
    assert problems_for(tmp_path, ENTRY.replace("answer: An answer.\n", block)) == []
    assert len(load_knowledge(tmp_path).get("one").answer) == 1500
