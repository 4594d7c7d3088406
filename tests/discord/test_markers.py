"""The one marker search that events and introduction cards share after a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from unittest.mock import MagicMock

import discord

from peerbot.discord.markers import carries_marker, find_marked, marked_footer

BOT_ID, MEMBER_ID = 999, 5


def message(footer: str, author: int = BOT_ID, message_id: int = 1) -> MagicMock:
    embed = discord.Embed(title="x")
    embed.set_footer(text=footer)
    found = MagicMock(spec=discord.Message, id=message_id, embeds=[embed])
    found.author = MagicMock(id=author)
    return found


def test_a_marker_is_the_whole_footer_or_its_end() -> None:
    assert carries_marker(message("event 12 · reminder 1h · job 345"), "event 12 · reminder 1h · job 345")
    card = marked_footer("Peer introduction · /peers to find peers", "member 5 · card 17")
    assert carries_marker(message(card), "member 5 · card 17")
    assert not carries_marker(message(card.replace("member 5", "member 15")), "member 5 · card 17")
    assert not carries_marker(
        message("event 12 · reminder 1h · job 3456"), "event 12 · reminder 1h · job 345"
    )
    assert not carries_marker(MagicMock(spec=discord.Message, embeds=[]), "member 5 · card 17")


async def test_only_the_bots_own_message_is_found_newest_first() -> None:
    marker = "member 5 · card 17"
    quoted = message(marked_footer("quoting", marker), author=MEMBER_ID, message_id=3)
    newest, older = message(marked_footer("card", marker), message_id=2), message(marker, message_id=1)
    channel = MagicMock(spec=discord.abc.Messageable)

    async def history(limit: int) -> AsyncIterator[discord.Message]:
        assert limit == 50
        for item in (quoted, newest, older):
            yield item

    channel.history = history
    assert await find_marked(channel, marker, author_id=BOT_ID) is newest
    assert await find_marked(channel, "member 5 · card 18", author_id=BOT_ID) is None
