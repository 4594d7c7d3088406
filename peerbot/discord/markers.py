"""Recognising PeerBot's own messages by the marker in their embed footer, after a crash.

Sending a message and saving its id are two steps; a kill between them leaves a message Discord has
and PeerBot does not know of. Everything PeerBot posts that must not be lost or doubled (event
announcements and reminders, introduction cards) carries a marker in its footer, and this one search
finds it again in the channel's recent messages. The footer is the marker itself (events) or ends
with `` · marker`` (cards, after their usual footer text).
"""

from __future__ import annotations

import logging

import discord

log = logging.getLogger(__name__)

HISTORY_LIMIT = 50  # recent messages searched; a crash is followed by a restart within minutes
SEPARATOR = " · "


def marked_footer(text: str, marker: str) -> str:
    """A footer that shows ``text`` and carries ``marker``."""
    return f"{text}{SEPARATOR}{marker}" if text else marker


def carries_marker(message: discord.Message, marker: str) -> bool:
    """Whether one of the message's embeds has ``marker`` as its footer, or at its end."""
    for embed in message.embeds:
        text = embed.footer.text if embed.footer else None
        if text and (text == marker or text.endswith(SEPARATOR + marker)):
            return True
    return False


async def find_marked(
    channel: discord.abc.Messageable,
    marker: str,
    *,
    author_id: int | None,
    limit: int = HISTORY_LIMIT,
) -> discord.Message | None:
    """PeerBot's recent message in ``channel`` carrying ``marker`` (newest first), or None.

    ``author_id`` is the bot's user id: a member's message quoting a marker is never taken for ours.
    Discord's errors are the caller's to sort (transient or permanent).
    """
    async for message in channel.history(limit=limit):
        if author_id is not None and message.author.id != author_id:
            continue
        if carries_marker(message, marker):
            return message
    return None
