"""The terminal chat driven through its input and output, as a member would use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_helpers import converse

from peerbot.core.services import Services
from tests.db_faults import HISTORY_ENTRY, damage_pages, write_database


@pytest.fixture
async def services(tmp_path: Path, sample_dir: Path) -> AsyncIterator[Services]:
    opened = await Services.open(sample_dir, tmp_path / "db.sqlite3")
    yield opened
    await opened.close()


async def test_plain_line_is_a_question_with_source(services: Services) -> None:
    output = await converse(services, "what are the SDGs?")
    assert "== SDGs ==" in output
    assert "Source: French Impact: PLP topic [glossary-sdgs]" in output


async def test_slash_commands(services: Services) -> None:
    output = await converse(
        services, "/ask what is the rrr project", "/topics", "/topics pl4se", "/help", "/quit"
    )
    assert "The Respond, Rebuild, Reinvent project" in output
    assert "UpSocial / RRR (1):" in output and "General (1):" in output
    assert output.count("CEPES / PL4SE (1):") == 2
    assert "/topics [consortium]" in output
    assert output.rstrip().endswith("Goodbye!")


async def test_decline_then_pick_a_suggestion_by_number(services: Services) -> None:
    output = await converse(services, "racing drivers in the rain tomorrow", "1")
    declined, picked = output.split("(type the number to see it)")
    assert (
        "I don't have an answer for that yet." in declined
        and "1) Key drivers of legal ecosystems" in declined
    )
    assert "== Key drivers of legal ecosystems ==" in picked


async def test_decline_is_polite(services: Services) -> None:
    output = await converse(services, "what's the weather in Lisbon")
    assert "I don't have an answer for that yet." in output


async def test_unknown_command_and_consortium(services: Services) -> None:
    output = await converse(services, "/frobnicate", "/topics atlantis")
    assert "Unknown command /frobnicate. Type /help" in output
    assert "I don't know the consortium 'atlantis'" in output


@pytest.mark.parametrize("text", ["", "x" * 5000, "🎉🎉", "\u200b\u200d", "@everyone **bold** <@123>"])
async def test_bad_input_never_ends_the_chat(services: Services, text: str) -> None:
    output = await converse(services, text, "what are the SDGs?")
    assert "== SDGs ==" in output


async def test_quit_stops_reading(services: Services) -> None:
    output = await converse(services, "/quit", "what are the SDGs?")
    assert "== SDGs ==" not in output


async def test_a_database_damaged_while_running_gets_a_reply_and_the_chat_goes_on(
    tmp_path: Path, knowledge: Path
) -> None:
    """Damage found inside a command (sqlite3.DatabaseError) is said as such, never a generic shrug."""
    path = tmp_path / "data" / "peerbot.sqlite3"
    pages = write_database(path)
    opened = await Services.open(knowledge, path)  # the file is sound at start
    try:
        damage_pages(path, pages)  # then the disk fails under the running chat
        output = await converse(opened, f"/kb history {HISTORY_ENTRY}", "what does RRR stand for?")
    finally:
        await opened.close()
    assert "Sorry, the database could not be read" in output
    assert "something went wrong" not in output
    assert "Respond, Rebuild, Reinvent" in output  # answering from the knowledge files goes on
