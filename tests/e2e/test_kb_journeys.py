"""Editors keeping the knowledge base from Discord: the real client, PeerBot in a subprocess, the fake.

The bot of this module runs on a COPY of the knowledge directory (PEERBOT_KNOWLEDGE_DIR), because
these journeys write to it; the module's own fixture starts it, not conftest's shared ``bot``.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from conftest import RunningBot, bot_env, start_bot, stop_bot
from fake_discord import FakeDiscord, SentMessage
from fake_discord.records import walk_components

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
NEW_ID = "rrr-tools-cities-used-with-the-sse"
FORM = {
    "title": "Tools cities used with the SSE",
    "tags": "rrr, tools, cities",
    "questions": "Which tools did RRR cities use?\nWhat tools helped cities?\nHow did cities help the SSE?",
    "answer": 'Cities used: "platforms", # open calls and shared spaces 🎉',
    "source": "UpSocial / RRR: tools",
}
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("kb") / "knowledge"
    shutil.copytree(BUNDLED_KNOWLEDGE, directory)
    return directory


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kb_bot(fake: FakeDiscord, knowledge: Path) -> AsyncIterator[RunningBot]:
    directory = knowledge.parent
    env = bot_env(fake, directory / "data", PEERBOT_KNOWLEDGE_DIR=str(knowledge))
    running = await start_bot(env, directory / "peerbot.log")
    try:
        await running.wait_for_log("Ready as")
        yield running
    finally:
        await stop_bot(running)


def button(message: SentMessage, label: str) -> str:
    components: list[dict[str, Any]] = walk_components(message.components)
    return next(c["custom_id"] for c in components if c.get("label") == label)


async def ask(fake: FakeDiscord, question: str) -> SentMessage:
    return await (await fake.invoke_slash("ask", {"question": question})).wait_for_message()


async def test_a_declined_question_is_asked_first(fake: FakeDiscord, kb_bot: RunningBot) -> None:
    for question in ("what's the weather in Lisbon", "Whats the weather in lisbon?"):
        reply = await ask(fake, question)
        assert reply.content.startswith("I don't have an answer for that yet.")


async def test_alice_is_refused_kb_add_with_the_reason(fake: FakeDiscord, kb_bot: RunningBot) -> None:
    reply = await (
        await fake.invoke_slash("kb add", {"consortium": "UpSocial / RRR"}, user="alice")
    ).response()
    assert reply.type == 4 and reply.ephemeral
    assert "only editors can do that" in reply.data["content"] and "Manage Server" in reply.data["content"]


async def test_carol_adds_an_entry_and_alice_finds_it(
    fake: FakeDiscord, kb_bot: RunningBot, knowledge: Path
) -> None:
    opened = await fake.invoke_slash("kb add", {"consortium": "UpSocial / RRR"}, user="carol")
    assert (await opened.response()).type == 9  # the form
    submitted = await fake.submit_modal(FORM, interaction=opened)
    saved = await submitted.wait_for_message()
    assert saved.ephemeral and f"Added '{NEW_ID}' in rrr.yaml" in saved.content
    assert NEW_ID in (knowledge / "rrr.yaml").read_text(encoding="utf-8")

    answer = await ask(fake, "Which tools did RRR cities use?")
    assert answer.embeds[0]["title"] == FORM["title"]
    assert answer.embeds[0]["description"] == FORM["answer"]


async def test_helpful_vote_is_recorded(fake: FakeDiscord, kb_bot: RunningBot) -> None:
    answer = await ask(fake, "Which tools did RRR cities use?")
    assert f"peerbot:vote:up:{NEW_ID}" in answer.custom_ids()
    voted = await (
        await fake.click_button(answer, f"peerbot:vote:up:{NEW_ID}", user="alice")
    ).wait_for_message()
    assert voted.ephemeral and "marked as helpful" in voted.content
    stats = await (await fake.invoke_slash("kb stats", user="carol")).wait_for_message()
    fields = {field["name"].split(" (")[0]: field["value"] for field in stats.embeds[0]["fields"]}
    assert f"[{NEW_ID}]: 1 helpful, 0 not helpful" in fields["Most helpful"]
    assert NEW_ID in fields["Most asked"]


async def test_carol_edits_and_ask_shows_the_new_text(
    fake: FakeDiscord, kb_bot: RunningBot, knowledge: Path
) -> None:
    before = (knowledge / "silk.yaml").read_bytes()
    opened = await fake.invoke_slash("kb edit", {"id": NEW_ID}, user="carol")
    assert (await opened.response()).type == 9
    new_answer = "Cities used **platforms**:\n- calls\n- shared spaces"
    saved = await (await fake.submit_modal({"answer": new_answer}, interaction=opened)).wait_for_message()
    assert f"Saved '{NEW_ID}'" in saved.content
    answer = await ask(fake, "Which tools did RRR cities use?")
    assert answer.embeds[0]["description"] == new_answer
    assert (knowledge / "silk.yaml").read_bytes() == before  # other files untouched
    history = await (await fake.invoke_slash("kb history", {"id": NEW_ID}, user="carol")).wait_for_message()
    assert "edit by Carol (changed: answer)" in history.embeds[0]["description"]


async def test_gaps_lists_the_declined_question(fake: FakeDiscord, kb_bot: RunningBot) -> None:
    gaps = await (await fake.invoke_slash("kb gaps", user="carol")).wait_for_message()
    assert gaps.ephemeral
    assert "weather in lisbon" in gaps.embeds[0]["description"].lower()
    assert "asked 2× in 2 wordings" in gaps.embeds[0]["description"]


async def test_carol_removes_the_entry_with_a_confirmation(
    fake: FakeDiscord, kb_bot: RunningBot, knowledge: Path
) -> None:
    prompt = await (await fake.invoke_slash("kb remove", {"id": NEW_ID}, user="carol")).wait_for_message()
    assert prompt.ephemeral and "Remove **Tools cities used with the SSE**" in prompt.content
    assert NEW_ID in (knowledge / "rrr.yaml").read_text(encoding="utf-8")  # nothing yet
    clicked = await fake.click_button(prompt, button(prompt, "Remove"), user="carol")
    await clicked.response()
    done = await fake.wait_for_message(lambda m: m.id == prompt.id and "Removed" in m.content)
    assert f"Removed '{NEW_ID}'" in done.content and done.components == []
    assert NEW_ID not in (knowledge / "rrr.yaml").read_text(encoding="utf-8")
    answer = await ask(fake, "Which tools did RRR cities use?")
    assert not answer.embeds or answer.embeds[0]["title"] != FORM["title"]


async def test_nothing_pinged_and_no_unknown_routes(fake: FakeDiscord, kb_bot: RunningBot) -> None:
    sent = [m for m in fake.messages if m.source in {"channel", "dm", "interaction", "followup"}]
    assert len(sent) >= 10
    assert [m for m in sent if m.allowed_mentions is None or m.allowed_mentions.get("parse") != []] == []
    assert fake.unknown_routes == []
