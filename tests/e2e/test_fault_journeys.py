"""Bad input and a failing database, met through Discord: the real client, PeerBot in a subprocess, the fake.

Every reply must reach the member and fit Discord's limits (the fake answers 400 to a message over
2,000 characters, as Discord does); ids and choices are checked against their 100-character limits
here. The bot of this module runs on a copy of the knowledge and on a database written before it
starts, which the last journey damages under the running bot.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import BotProcess
from fake_discord import FakeDiscord

from tests.db_faults import HISTORY_ENTRY, damage_pages, write_database

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
DISCORD_MAX_CONTENT = 2000
DISCORD_MAX_ID = 100  # custom ids, autocomplete choice names and values
FORM = {
    "title": "Tools cities used with the SSE",
    "tags": "rrr, tools, cities",
    "questions": "Which tools did RRR cities use?\nWhat tools helped cities?\nHow did cities help the SSE?",
    "answer": "Cities used platforms, open calls and shared spaces.",
    "source": "UpSocial / RRR: tools",
}
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bot's folder: a copy of the knowledge, and a sound database with a few hundred rows."""
    folder = tmp_path_factory.mktemp("peerbot-faults")
    shutil.copytree(BUNDLED_KNOWLEDGE, folder / "knowledge")
    return folder


@pytest.fixture(scope="module")
def row_pages(directory: Path) -> range:
    """The pages of the database that hold rows (not the schema), written before the bot starts."""
    return write_database(directory / "data" / "peerbot.sqlite3")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, directory: Path, row_pages: range) -> AsyncIterator[BotProcess]:
    process = BotProcess(fake, directory, {"PEERBOT_KNOWLEDGE_DIR": str(directory / "knowledge")})
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


async def test_topics_with_a_huge_consortium_gets_a_short_reply(fake: FakeDiscord, bot: BotProcess) -> None:
    """1,900 characters used to be echoed back: a reply over 2,000 characters, refused by Discord."""
    reply = await (await fake.invoke_slash("topics", {"consortium": "x" * 1900})).wait_for_message()
    assert len(reply.content) <= DISCORD_MAX_CONTENT
    assert "none is longer than 60" in reply.content and "DIESIS / SILK" in reply.content


async def test_a_150_character_id_is_refused_when_saved(fake: FakeDiscord, bot: BotProcess) -> None:
    """It used to be saved, then every button carrying it failed (custom ids are at most 100)."""
    options = {"consortium": "UpSocial / RRR", "id": "a" * 150}
    opened = await fake.invoke_slash("kb add", options, user="carol")
    assert (await opened.response()).type == 9
    refused = await (await fake.submit_modal(FORM, interaction=opened)).wait_for_message()
    assert refused.ephemeral and len(refused.content) <= DISCORD_MAX_CONTENT
    assert "'id' is 150 characters; the limit is 64" in refused.content


async def test_a_title_of_invisible_characters_is_refused(fake: FakeDiscord, bot: BotProcess) -> None:
    opened = await fake.invoke_slash("kb add", {"consortium": "UpSocial / RRR"}, user="carol")
    await opened.response()
    form = {**FORM, "title": "\u200b\u200b\u200b"}
    refused = await (await fake.submit_modal(form, interaction=opened)).wait_for_message()
    assert "'title' needs at least one letter or digit" in refused.content


async def test_ids_and_choices_stay_within_discord_limits(fake: FakeDiscord, bot: BotProcess) -> None:
    choices = await fake.autocomplete("kb edit", {"id": ""}, "id", user="carol")
    choices += await fake.autocomplete("ask", {"question": "what"}, "question")
    assert choices and all(
        len(choice["name"]) <= DISCORD_MAX_ID and len(str(choice["value"])) <= DISCORD_MAX_ID
        for choice in choices
    )
    asked = await fake.invoke_slash("ask", {"question": "what did the RRR project find?"})
    custom_ids = (await asked.wait_for_message()).custom_ids()
    assert custom_ids and all(len(custom_id) <= DISCORD_MAX_ID for custom_id in custom_ids)


async def test_a_database_damaged_while_running_still_gets_a_reply(
    fake: FakeDiscord, bot: BotProcess, row_pages: range
) -> None:
    """sqlite3.DatabaseError inside /kb history got no useful reply ("something went wrong", or none)."""
    damage_pages(bot.directory / "data" / "peerbot.sqlite3", row_pages)  # the disk fails under the bot
    history = await fake.invoke_slash("kb history", {"id": HISTORY_ENTRY}, user="carol")
    reply = await history.wait_for_message()
    assert reply.ephemeral and reply.content.startswith("Sorry, the database could not be read")
    assert bot.running is not None
    await bot.running.wait_for_log("database disk image is malformed")
    # The knowledge is in its files: answers keep coming.
    asked = await fake.invoke_slash("ask", {"question": "What does RRR stand for?"})
    answer = await asked.wait_for_message()
    assert answer.embeds and "Respond" in answer.embeds[0]["description"]
