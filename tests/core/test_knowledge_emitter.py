"""The house-style emitter: the bundled files reproduce byte for byte, and awkward text round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerbot.core.knowledge import Entry
from peerbot.core.knowledge_emitter import entry_version, file_yaml, flow_list, quoted
from peerbot.core.knowledge_loader import Problem, parse_file

BUNDLED = Path(__file__).resolve().parents[2] / "knowledge"

AWKWARD_ANSWERS = [
    "Key: value, \"quoted\" and 'single' # not a comment",
    "Line one\n\n- a list: item\n  indented continuation\n\n**bold** `code` # hash",
    "Unicode: é ñ ü 日本語 emoji 🎉 and « guillemets » — dashes",
    "Ends with a colon:",
    "- starts like a list item",
    "| starts like a block",
    "> starts like a folded block",
    "&anchor *alias !tag %directive @at `tick",
    "Tabs\tinside",
    "Trailing spaces on a line   \nnext line",
    "Windows\r\nline ending kept as text",
    "Zero\u200bwidth and a line\u2028separator and \x85 NEL",
    "Backslash \\ and \\n literally",
    "null",
    "yes",
    "123",
    "---\n...\n# heading-ish",
    "Very long line " + "x" * 1400,
    '"fully quoted"',
]


def entry(**changes: object) -> Entry:
    fields: dict[str, object] = {
        "id": "rrr-test",
        "title": "A test entry",
        "consortium": "UpSocial / RRR",
        "tags": ("rrr", "tests"),
        "questions": ("What is one?", "What is two?", "What is three?"),
        "answer": "An answer.",
        "source": "UpSocial / RRR: tests",
        "related": (),
    }
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]


def round_trip(*entries: Entry) -> list[Entry]:
    problems: list[Problem] = []
    parsed = parse_file(file_yaml(entries), "test.yaml", problems)
    assert problems == []
    return parsed


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_files_are_reproduced_exactly(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    problems: list[Problem] = []
    entries = parse_file(text, path.name, problems)
    assert problems == [] and entries
    assert file_yaml(entries) == text


@pytest.mark.parametrize("answer", AWKWARD_ANSWERS)
def test_awkward_answers_round_trip_exactly(answer: str) -> None:
    original = entry(answer=answer)
    (parsed,) = round_trip(original)
    assert parsed.answer == answer
    assert parsed == original


@pytest.mark.parametrize(
    "text", ['Title: with "quotes"', "# hash first", "Ünïcödé ✓", "a\\b", "tab\there", "@mention-like"]
)
def test_titles_sources_and_questions_round_trip(text: str) -> None:
    original = entry(title=text, source=text, questions=(text, text + "?", text + "!"))
    assert round_trip(original) == [original]


@pytest.mark.parametrize(
    "tags",
    [("plain", "two words"), ("a, b",), ("yes", "no", "null", "2021"), ("key: value",), ("#hash", "[x]")],
)
def test_tags_that_need_quotes_are_quoted(tags: tuple[str, ...]) -> None:
    original = entry(tags=tags)
    assert round_trip(original) == [original]


def test_house_style_layout() -> None:
    text = file_yaml([entry(related=("rrr-overview",)), entry(id="rrr-second", answer="Two\n\nparagraphs")])
    assert text == (
        "entries:\n"
        "  - id: rrr-test\n"
        '    title: "A test entry"\n'
        '    consortium: "UpSocial / RRR"\n'
        "    tags: [rrr, tests]\n"
        "    questions:\n"
        '      - "What is one?"\n'
        '      - "What is two?"\n'
        '      - "What is three?"\n'
        "    answer: |\n"
        "      An answer.\n"
        '    source: "UpSocial / RRR: tests"\n'
        "    related: [rrr-overview]\n"
        "\n"
        "  - id: rrr-second\n"
        '    title: "A test entry"\n'
        '    consortium: "UpSocial / RRR"\n'
        "    tags: [rrr, tests]\n"
        "    questions:\n"
        '      - "What is one?"\n'
        '      - "What is two?"\n'
        '      - "What is three?"\n'
        "    answer: |\n"
        "      Two\n"
        "\n"
        "      paragraphs\n"
        '    source: "UpSocial / RRR: tests"\n'
    )


def test_helpers_and_version() -> None:
    assert quoted('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert flow_list(["a", "b: c"]) == '[a, "b: c"]'
    assert file_yaml([]) == "entries: []\n"
    assert entry_version(entry()) == entry_version(entry()) != entry_version(entry(answer="Other."))
