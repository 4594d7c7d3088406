"""/kb, /helpful and /unhelpful in the terminal chat, on a temporary copy of the knowledge directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from console_helpers import converse

from peerbot.core.knowledge_loader import load_knowledge
from peerbot.core.permissions import Actor
from peerbot.core.services import Services


@pytest.fixture
async def services(bundled_services: Services) -> Services:
    return bundled_services


ADD = (
    "/kb add",
    "",  # id: derived
    "Tools cities used with the SSE",
    "rrr",  # a loose consortium name
    "rrr, tools, cities",
    "Which tools did RRR cities use?",
    "What tools helped cities?",
    "How did cities support SSE?",
    ".",
    'Cities used: "platforms", # calls',
    "",
    "- and shared spaces 🎉",
    ".",
    "UpSocial / RRR: tools",
    "",
)


async def test_add_then_ask_finds_it(services: Services, knowledge: Path) -> None:
    output = await converse(services, *ADD, "Which tools did RRR cities use?")
    assert "Added 'rrr-tools-cities-used-with-the-sse' in rrr.yaml" in output
    assert "== Tools cities used with the SSE ==" in output
    entry = load_knowledge(knowledge).get("rrr-tools-cities-used-with-the-sse")
    assert entry is not None and entry.answer == 'Cities used: "platforms", # calls\n\n- and shared spaces 🎉'
    assert entry.consortium == "UpSocial / RRR"


async def test_edit_keeps_fields_on_enter_and_changes_the_answer(services: Services) -> None:
    output = await converse(
        services,
        "/kb edit rrr-objectives",
        "", "", "", "",  # title, consortium, tags, questions kept
        "A new answer.", ".",
        "", "",  # source, related kept
        "/ask What were the objectives of RRR?",
        "/kb history rrr-objectives",
    )  # fmt: skip
    assert "Saved 'rrr-objectives' in rrr.yaml" in output
    assert "A new answer." in output.split("Saved 'rrr-objectives'")[1]
    assert "edit by you (changed: answer)" in output


async def test_remove_asks_for_confirmation_then_restore(services: Services) -> None:
    output = await converse(services, *ADD, "/kb remove rrr-tools-cities-used-with-the-sse", "no")
    assert "Not removed." in output and services.library.base.get("rrr-tools-cities-used-with-the-sse")
    output = await converse(
        services,
        "/kb remove rrr-tools-cities-used-with-the-sse",
        "yes",
        "/kb show rrr-tools-cities-used-with-the-sse",
        "/kb restore rrr-tools-cities-used-with-the-sse",
        "/kb show rrr-tools-cities-used-with-the-sse",
    )
    assert "Removed 'rrr-tools-cities-used-with-the-sse'" in output
    assert "There is no entry 'rrr-tools-cities-used-with-the-sse'" in output
    assert "Restored 'rrr-tools-cities-used-with-the-sse'" in output
    assert "file: rrr.yaml · version" in output


async def test_bad_input_is_refused_and_nothing_written(services: Services, knowledge: Path) -> None:
    before = (knowledge / "rrr.yaml").read_bytes()
    duplicate = list(ADD)
    duplicate[1] = "rrr-objectives"
    output = await converse(services, *duplicate)
    assert "An entry with the id 'rrr-objectives' already exists" in output
    missing = await converse(services, "/kb add", "", "", "rrr", "tags", "q1", ".", "answer", ".", "src", "")
    assert "Please fill in: title" in missing
    ended = await converse(services, "/kb add", "", "A title")  # the input ends mid-form
    assert "Cancelled: nothing was saved." in ended
    assert (knowledge / "rrr.yaml").read_bytes() == before


async def test_votes_gaps_stats_reload_export(services: Services, knowledge: Path) -> None:
    output = await converse(
        services,
        "what are the SDGs?",
        "/helpful glossary-sdgs",
        "/unhelpful glossary-sdgs",
        "/helpful no-such-entry",
        "what's the weather in Lisbon",
        "whats the weather in lisbon?",
        "/kb gaps",
        "/kb stats",
        "/kb reload",
        "/kb export",
    )
    assert "Thanks for the feedback" in output and "Vote changed" in output
    assert "There is no entry 'no-such-entry'" in output
    assert "(asked 2× in 2 wordings)" in output
    assert "[glossary-sdgs]: 1×" in output and "0 helpful, 1 not helpful" in output
    entries = len(services.library.base)
    assert entries > 50 and f"Reloaded: {entries} entries." in output
    assert output.count("  - id: ") >= entries


async def test_reload_reports_a_broken_file(services: Services, knowledge: Path) -> None:
    (knowledge / "rrr.yaml").write_text("entries:\n  - id: [\n", encoding="utf-8")
    entries = len(services.library.base)
    output = await converse(services, "/kb reload", "what were the objectives of RRR?")
    assert f"Reload refused; still answering from the last good knowledge ({entries} entries)" in output
    assert "rrr.yaml" in output and "RRR's main objectives" in output


async def test_non_editor_is_refused(services: Services) -> None:
    output = await converse(services, "/kb add", "/kb stats", actor=Actor(5, "guest"))
    assert output.count("Sorry, only editors can do that") == 2


async def test_usage_lines(services: Services) -> None:
    output = await converse(services, "/kb", "/kb edit", "/helpful")
    assert "Usage: /kb add | edit ID" in output and "Usage: /kb edit ID" in output
    assert "Usage: /helpful ID" in output
