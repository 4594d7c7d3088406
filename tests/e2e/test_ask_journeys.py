"""Members asking questions through Discord: the real client, PeerBot in a subprocess, the fake Discord."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import RunningBot, bot_env, pings_nobody
from fake_discord import FakeDiscord, SentMessage

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def embed_title(message: SentMessage) -> str | None:
    return message.embeds[0].get("title") if message.embeds else None


async def test_ready_and_commands_synced_with_options(fake: FakeDiscord, bot: RunningBot) -> None:
    commands = {command["name"]: command for command in fake.commands}
    assert {"ask", "topics", "help"} <= set(commands)  # other capabilities add their own
    (question,) = commands["ask"]["options"]
    assert (question["name"], question["type"], question["required"]) == ("question", 3, True)
    assert question["autocomplete"] is True
    (consortium,) = commands["topics"]["options"]
    assert consortium["name"] == "consortium" and not consortium.get("required", False)
    assert fake.unknown_routes == []


async def test_slash_ask_answers_with_source(fake: FakeDiscord, bot: RunningBot) -> None:
    handle = await fake.invoke_slash("ask", {"question": "What does RRR stand for?"})
    reply = await handle.response()
    assert reply.type == 4
    (embed,) = reply.data["embeds"]
    assert embed["title"].startswith("RRR")
    assert "Respond, Rebuild, Reinvent" in embed["description"]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Consortium"] == "UpSocial / RRR" and fields["Source"].startswith("UpSocial / RRR:")


async def test_uncertain_answer_offers_buttons_that_show_entries(fake: FakeDiscord, bot: RunningBot) -> None:
    handle = await fake.invoke_slash("ask", {"question": "tools"})
    answer = await handle.wait_for_message()
    ids = [i for i in answer.custom_ids() if not i.startswith("peerbot:vote:")]  # Helpful / Not helpful
    assert answer.embeds and 1 <= len(ids) <= 3 and all(i.startswith("peerbot:entry:") for i in ids)
    assert "not completely sure" in answer.content
    clicked = await fake.click_button(answer, ids[0], user="bob")
    shown = await clicked.wait_for_message()
    assert shown.ephemeral
    assert shown.embeds[0]["footer"]["text"].endswith(ids[0].removeprefix("peerbot:entry:"))


async def test_declined_question_says_so_and_suggests(fake: FakeDiscord, bot: RunningBot) -> None:
    # The topic is known, the fact asked for is not: say what is missing, offer what is nearby.
    handle = await fake.invoke_slash("ask", {"question": "what budget did the SILK tools have?"})
    reply = await handle.wait_for_message()
    assert reply.content.startswith("I don't know that: the PLP lessons give no budgets")
    assert not reply.embeds and 1 <= len(reply.custom_ids()) <= 3
    off_topic = await (
        await fake.invoke_slash("ask", {"question": "what's the weather in Lisbon"})
    ).wait_for_message()
    assert (
        off_topic.content.startswith("I don't have an answer for that yet.") and off_topic.custom_ids() == []
    )


async def test_autocomplete_offers_entry_titles(fake: FakeDiscord, bot: RunningBot) -> None:
    choices = await fake.autocomplete("ask", {"question": "Key dri"}, "question")
    assert 1 <= len(choices) <= 25
    assert any("drivers" in choice["name"].lower() for choice in choices)
    assert all(len(choice["name"]) <= 100 for choice in choices)


async def test_prefix_command_mention_and_direct_message(fake: FakeDiscord, bot: RunningBot) -> None:
    await fake.send_message("alice", "general", "!ask what is PL4SE?")
    prefixed = await fake.wait_for_message(lambda m: bool(m.embeds), channel="general")
    assert "PL4SE" in embed_title(prefixed)

    await fake.send_message("bob", "general", f"<@{fake.bot_user.id}> what were the objectives of RRR?")
    mentioned = await fake.wait_for_message(lambda m: bool(m.embeds), channel="general")
    assert embed_title(mentioned).startswith("RRR's main objectives")

    await fake.send_dm("carol", "what does SILK stand for")
    direct = await fake.wait_for_message(lambda m: m.source == "dm" or bool(m.embeds))
    assert "SILK" in embed_title(direct)


async def test_topics_lists_consortia(fake: FakeDiscord, bot: RunningBot) -> None:
    everything = await (await fake.invoke_slash("topics")).wait_for_message()
    names = [field["name"] for field in everything.embeds[0]["fields"]]
    assert len(names) == 7 and names[0].startswith("DIESIS / SILK (")
    one = await (await fake.invoke_slash("topics", {"consortium": "French Impact"})).wait_for_message()
    assert [field["name"].split(" (")[0] for field in one.embeds[0]["fields"]] == ["French Impact"]


async def test_bad_input_is_answered_politely(fake: FakeDiscord, bot: RunningBot) -> None:
    long = await (await fake.invoke_slash("ask", {"question": "why " * 1200})).wait_for_message()
    assert "characters long" in long.content
    await fake.send_message("alice", "general", f"<@{fake.bot_user.id}> 🎉🎉🎉")
    emoji = await fake.wait_for_message(lambda m: "few words" in m.content, channel="general")
    assert not emoji.embeds


async def test_rate_limit_is_retried_and_the_answer_arrives(fake: FakeDiscord, bot: RunningBot) -> None:
    fault = fake.fail_next("POST", "/channels/{channel_id}/messages", status=429, retry_after=0.3)
    await fake.send_message("alice", "general", "!ask what does PLP stand for")
    answer = await fake.wait_for_message(lambda m: bool(m.embeds), channel="general", timeout=10)
    assert "PLP" in embed_title(answer)
    assert len(fault.hits) == 1


async def test_server_error_is_retried_once(fake: FakeDiscord, bot: RunningBot) -> None:
    fault = fake.fail_next("POST", "/channels/{channel_id}/messages", status=500)
    await fake.send_message("alice", "general", "!ask what are the SDGs")
    answer = await fake.wait_for_message(lambda m: bool(m.embeds), channel="general", timeout=10)
    assert embed_title(answer).startswith("SDGs") and len(fault.hits) == 1


async def test_gateway_drop_resumes_and_still_answers(fake: FakeDiscord, bot: RunningBot) -> None:
    await fake.drop_gateway(resume=True)
    await fake.wait_for_resume(1, timeout=20)
    await fake.send_message("alice", "general", "!ask what is the RRR project")
    answer = await fake.wait_for_message(lambda m: bool(m.embeds), channel="general", timeout=10)
    assert "RRR" in embed_title(answer)


async def test_invalid_token_exits_with_one_line(fake: FakeDiscord, tmp_path: Path) -> None:
    import asyncio

    env = bot_env(fake, tmp_path, DISCORD_TOKEN="not-the-token", PEERBOT_LOG_LEVEL="ERROR")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "peerbot", "run",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 1
    lines = stderr.decode().strip().splitlines()
    assert lines[-1].startswith("peerbot: Discord rejected the token")
    assert "Traceback" not in stderr.decode()


async def test_nobody_is_ever_pinged(fake: FakeDiscord, bot: RunningBot) -> None:
    """Last in the module: checks every message the bot sent in all the journeys above."""
    await fake.send_message(
        "alice", "general", f"<@{fake.bot_user.id}> @everyone <@&{fake.role('Editor').id}> what are the SDGs?"
    )
    answer = await fake.wait_for_message(lambda m: bool(m.embeds), channel="general")
    assert embed_title(answer).startswith("SDGs")
    sent = [
        message for message in fake.messages if message.source in {"channel", "dm", "interaction", "followup"}
    ]
    assert len(sent) >= 10
    assert [(m, m.allowed_mentions) for m in sent if not pings_nobody(m.allowed_mentions)] == []


async def test_sighup_reload_keeps_last_good_knowledge(tmp_path: Path) -> None:
    """A broken file on reload is reported and the bot keeps answering from what it had."""
    import shutil
    import signal

    from conftest import start_bot, stop_bot

    knowledge = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_KNOWLEDGE, knowledge)
    async with FakeDiscord() as own:  # its own Discord: the module's bot must not answer for this one
        second = await start_bot(
            bot_env(own, tmp_path / "data", PEERBOT_KNOWLEDGE_DIR=str(knowledge)), tmp_path / "second.log"
        )
        try:
            await second.wait_for_log("Ready as")
            (knowledge / "broken.yaml").write_text("entries: [", encoding="utf-8")
            second.process.send_signal(signal.SIGHUP)
            await second.wait_for_log("Knowledge reload refused: broken.yaml")
            await own.send_message("alice", "general", "!ask what does SILK stand for")
            answer = await own.wait_for_message(lambda m: bool(m.embeds), channel="general", timeout=10)
            assert "SILK" in embed_title(answer)
            assert second.process.returncode is None
        finally:
            await stop_bot(second)
