"""The ask cog's handlers with discord objects mocked from their real classes (spec'd mocks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock, PropertyMock

import discord
import pytest
from discord.ext import commands

from peerbot.config import Settings
from peerbot.core.services import Services
from peerbot.discord.bot import PeerBot
from peerbot.discord.cogs.ask import AskCog
from peerbot.discord.views import EntryButton

BOT_ID = 999


@pytest.fixture
async def cog(tmp_path: Path, sample_dir: Path) -> AsyncIterator[AskCog]:
    settings = Settings.from_env(
        {"PEERBOT_KNOWLEDGE_DIR": str(sample_dir), "PEERBOT_DATA_DIR": str(tmp_path)}
    )
    services = await Services.open(settings.knowledge_dir, settings.database_path)
    bot = PeerBot(settings, services)
    user = MagicMock(spec=discord.ClientUser, id=BOT_ID)
    type(bot).user = PropertyMock(return_value=user)
    yield AskCog(bot)
    del type(bot).user
    await services.close()


def context(guild_id: int | None = 1) -> MagicMock:
    ctx = MagicMock(spec=commands.Context)
    ctx.send = AsyncMock()
    ctx.guild = MagicMock(spec=discord.Guild, id=guild_id) if guild_id else None
    return ctx


def message(content: str, *, guild: bool = True, bot_author: bool = False) -> MagicMock:
    msg = MagicMock(spec=discord.Message)
    msg.content = content
    msg.author = MagicMock(spec=discord.Member, bot=bot_author)
    msg.guild = MagicMock(spec=discord.Guild, id=1) if guild else None
    msg.reply = AsyncMock()
    return msg


async def test_ask_sends_an_embed_with_source(cog: AskCog) -> None:
    ctx = context()
    await cog.ask.callback(cog, ctx, question="What are the SDGs?")
    kwargs = ctx.send.await_args.kwargs
    assert kwargs["embed"].title == "SDGs"
    fields = {field.name: field.value for field in kwargs["embed"].fields}
    assert fields == {"Consortium": "General", "Source": "French Impact: PLP topic"}
    ids = [item.custom_id for item in kwargs["view"].children]  # Helpful / Not helpful only
    assert ids == ["peerbot:vote:up:glossary-sdgs", "peerbot:vote:down:glossary-sdgs"]


async def test_decline_offers_buttons_for_suggestions(cog: AskCog) -> None:
    ctx = context()
    await cog.ask.callback(cog, ctx, question="racing drivers in the rain tomorrow")
    kwargs = ctx.send.await_args.kwargs
    assert kwargs["embed"] is None
    assert kwargs["content"].startswith("I don't have an answer for that yet.")
    ids = [item.custom_id for item in kwargs["view"].children]
    assert ids == ["peerbot:entry:pl4se-drivers"]


async def test_mention_is_a_question(cog: AskCog) -> None:
    msg = message(f"<@{BOT_ID}> what are the SDGs?")
    await cog.on_message(msg)
    assert msg.reply.await_args.kwargs["embed"].title == "SDGs"
    assert msg.reply.await_args.kwargs["mention_author"] is False


@pytest.mark.parametrize(
    "msg",
    [
        message("what are the SDGs?"),  # in a guild, not addressed to the bot
        message("!ask what are the SDGs?"),  # the prefix command handles it
        message(f"<@{BOT_ID}> what are the SDGs?", bot_author=True),
    ],
)
async def test_messages_the_listener_ignores(cog: AskCog, msg: MagicMock) -> None:
    await cog.on_message(msg)
    msg.reply.assert_not_awaited()


async def test_direct_message_is_a_question(cog: AskCog) -> None:
    msg = message("what is the rrr project", guild=False)
    await cog.on_message(msg)
    assert msg.reply.await_args.kwargs["embed"].title == "The Respond, Rebuild, Reinvent project"


async def test_empty_mention_gets_guidance(cog: AskCog) -> None:
    msg = message(f"<@{BOT_ID}>")
    await cog.on_message(msg)
    assert msg.reply.await_args.kwargs["content"].startswith("Ask me a question")


async def test_topics_unknown_consortium_is_ephemeral(cog: AskCog) -> None:
    ctx = context()
    await cog.topics.callback(cog, ctx, consortium="atlantis")
    assert ctx.send.await_args.kwargs == {"ephemeral": True}
    assert "I don't know the consortium" in ctx.send.await_args.args[0]


async def test_autocomplete_offers_titles(cog: AskCog) -> None:
    interaction = MagicMock(spec=discord.Interaction)
    choices = await cog.ask_autocomplete(interaction, "Key")
    assert choices[0].name == "Key drivers of legal ecosystems"
    assert all(len(choice.name) <= 100 for choice in choices)


async def test_entry_button_for_removed_entry_is_polite(cog: AskCog) -> None:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.client = cog.bot
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.send_message = AsyncMock()
    await EntryButton("gone-entry").callback(interaction)
    args, kwargs = interaction.response.send_message.await_args
    assert "no longer in the knowledge base" in args[0] and kwargs == {"ephemeral": True}


def test_bot_pings_nobody_by_default(cog: AskCog) -> None:
    mentions = cog.bot.allowed_mentions
    assert mentions is not None and mentions.to_dict() == {"parse": []}
