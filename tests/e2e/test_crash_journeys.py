"""PeerBot killed at the worst moment, and a second PeerBot started by mistake: nothing lost or doubled.

The fake Discord holds the answer to one request (``hold_next``) so the bot can be killed with SIGKILL
exactly between Discord accepting a card and PeerBot recording it, or just before the card arrives.
The journeys share one bot and its data directory, in order.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from conftest import BotProcess, bot_env
from fake_discord import FakeDiscord, SentMessage

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

POST = "peerbot:intro:post"
CONFIRM = "peerbot:confirm:yes"
CARD_POST = "/channels/{channel_id}/messages"
ALICE = {"name": "Alice Martin", "country": "France", "topics": "impact measurement for cooperatives"}
BOB = {"name": "Bob Lee", "country": "Korea", "topics": "social procurement"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    process = BotProcess(fake, tmp_path_factory.mktemp("peerbot-crashes"))
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


def cards_of(fake: FakeDiscord, name: str) -> list[SentMessage]:
    """Live cards titled ``name`` in #introductions."""
    return [
        m
        for m in fake.messages_in("introductions")
        if m.embeds and not m.deleted and m.embeds[0].get("title") == name
    ]


async def preview_of(fake: FakeDiscord, user: str, values: dict[str, str], command: str) -> SentMessage:
    handle = await fake.invoke_slash(command, user=user)
    assert (await handle.response()).type == 9
    return await (await fake.submit_modal(values, interaction=handle)).wait_for_message()


async def kill_while_posting(fake: FakeDiscord, bot: BotProcess, user: str, *, arrive: bool) -> None:
    """Press Post, then SIGKILL the bot while its card request is held (answered, or not yet arrived)."""
    channel = fake.channel("introductions").id
    hold = fake.hold_next("POST", f"/channels/{channel}/messages", arrive=arrive)
    preview = await preview_of(fake, user, ALICE if user == "alice" else BOB, "intro create")
    await fake.click_button(preview, POST, user=user)
    await hold.wait_reached()
    await bot.kill()
    hold.release()


async def test_setup(fake: FakeDiscord, bot: BotProcess) -> None:
    handle = await fake.invoke_slash("setup", {"introductions_channel": "introductions"}, user="carol")
    assert "Settings saved." in (await handle.wait_for_message()).content


async def test_killed_after_the_card_was_posted_it_is_recorded_not_posted_twice(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    await kill_while_posting(fake, bot, "alice", arrive=True)
    (stray,) = cards_of(fake, "Alice Martin")  # public, but the bot died before saving its id
    await bot.start()

    preview = await preview_of(fake, "alice", {"topics": "impact measurement and the SDGs"}, "intro edit")
    clicked = await fake.click_button(preview, POST, user="alice")
    await clicked.wait_for_message(lambda m: "Posted in" in m.content)
    assert [card.id for card in cards_of(fake, "Alice Martin")] == [stray.id], (
        "edited in place, no second card"
    )
    assert "the SDGs" in stray.embeds[0]["description"]

    question = await (await fake.invoke_slash("privacy forget-me", user="alice")).wait_for_message()
    done = await fake.click_button(question, CONFIRM, user="alice")
    await done.wait_for_message(lambda m: m.content.startswith("Done: erased"))
    assert stray.deleted and cards_of(fake, "Alice Martin") == []


async def test_killed_before_the_card_arrived_it_is_posted_at_start(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    await kill_while_posting(fake, bot, "bob", arrive=False)
    assert cards_of(fake, "Bob Lee") == []
    await bot.start()
    card = await fake.wait_for_message(
        lambda m: bool(m.embeds) and m.embeds[0].get("title") == "Bob Lee", channel="introductions"
    )
    assert [c.id for c in cards_of(fake, "Bob Lee")] == [card.id]
    assert bot.running is not None
    await bot.running.wait_for_log("Posted the introduction card of member")  # its id is saved
    shown = await (await fake.invoke_slash("privacy show", user="bob")).wait_for_message()
    assert f"message {card.id}" in shown.text(), "the re-posted card is recorded"


async def test_a_second_process_on_the_same_data_directory_exits_naming_the_first(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    assert bot.running is not None
    first = bot.running.process.pid
    second = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "peerbot", "run",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=bot_env(fake, bot.directory / "data"),
    )  # fmt: skip
    output, _ = await asyncio.wait_for(second.communicate(), 30)
    lines = output.decode().strip().splitlines()
    assert second.returncode == 1, lines
    assert len(lines) == 1 and f"pid {first}" in lines[0], lines

    await bot.kill()  # SIGKILL: no clean-up runs, yet the lock goes with the process
    await bot.start()
    assert bot.running is not None and bot.running.process.pid != first
