"""Posting, updating and removing introduction cards in the server's introductions channel.

A member has one card per server: editing changes that message (a PATCH) instead of posting a new
one, and the card is posted again only when the old message is gone. The crash-safe order (intent
row, marker, reconciliation at start) lives in ``peerbot.core.card_posts``; this module is its
:class:`~peerbot.core.card_posts.CardBoard` for Discord, plus the calls the cogs use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import aiohttp
import discord

from peerbot.core.card_posts import Card, CardError, CardPublisher
from peerbot.core.intros import Introduction
from peerbot.discord.intro_embeds import card_embed
from peerbot.discord.markers import find_marked

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)

__all__ = ["CardError", "DiscordCardBoard", "card_publisher", "delete_card", "publish_card", "remove_cards"]

# Failures that say nothing about whether Discord took the request.
_NETWORK_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


class DiscordCardBoard:
    """Implements :class:`peerbot.core.card_posts.CardBoard` with the bot's REST calls."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    async def post(self, intro: Introduction, channel_id: int, marker: str) -> int:
        embed = card_embed(intro, intro.member_id, marker=marker)
        try:
            message = await self.bot.get_partial_messageable(channel_id).send(embed=embed)
        except discord.Forbidden as exc:
            raise CardError(
                f"I may not post in <#{channel_id}>: ask an admin to let me send messages and embeds there."
            ) from exc
        except discord.HTTPException as exc:
            raise CardError(
                f"Discord did not accept the card ({exc.status}); please try again.",
                maybe_posted=exc.status >= 500,
            ) from exc
        except _NETWORK_ERRORS as exc:
            raise CardError("I could not reach Discord; please try again.", maybe_posted=True) from exc
        return message.id

    async def edit(self, intro: Introduction, card: Card) -> bool:
        channel_id, message_id = card
        partial = self.bot.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await partial.edit(embed=card_embed(intro, intro.member_id))
        except discord.NotFound:
            return False
        except discord.HTTPException as exc:
            raise CardError(f"Discord refused to update your card ({exc.status}); try again.") from exc
        except _NETWORK_ERRORS as exc:
            raise CardError("I could not reach Discord; please try again.") from exc
        return True

    async def find(self, channel_id: int, marker: str) -> int | None:
        author = self.bot.user.id if self.bot.user is not None else None
        try:
            message = await find_marked(
                self.bot.get_partial_messageable(channel_id), marker, author_id=author
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            # The channel is gone or unreadable: asking again will not help.
            log.warning("Cannot look for card %s in channel %d: %s", marker, channel_id, exc)
            return None
        except (discord.HTTPException, *_NETWORK_ERRORS) as exc:
            raise CardError("Discord did not let me check your earlier card; please try again.") from exc
        return message.id if message is not None else None

    async def delete(self, card: Card) -> bool:
        return await delete_card(self.bot, card)


def card_publisher(bot: PeerBot) -> CardPublisher:
    """The publisher a bot holds (one, so that a member's card operations take turns)."""
    services = bot.services
    return CardPublisher(services.intros, services.card_posts, DiscordCardBoard(bot))


async def publish_card(bot: PeerBot, intro: Introduction, channel_id: int) -> Introduction:
    """Update the member's posted card in place, or post it in ``channel_id``; returns the stored intro."""
    return await bot.cards.publish(intro, channel_id)


async def remove_cards(
    bot: PeerBot, member_id: int, cards: Iterable[Card | None], guild_id: int | None = None
) -> int:
    """Delete the member's known cards and any still being posted; the number that stayed up."""
    return await bot.cards.remove(member_id, [card for card in cards if card], guild_id)


async def delete_card(bot: PeerBot, card: Card | None) -> bool:
    """Delete a posted card; True when it is gone (also when it was already gone)."""
    if card is None:
        return True
    channel_id, message_id = card
    try:
        await bot.get_partial_messageable(channel_id).get_partial_message(message_id).delete()
    except discord.NotFound:
        return True
    except (discord.HTTPException, *_NETWORK_ERRORS):
        log.warning("Could not delete card message %d in channel %d", message_id, channel_id, exc_info=True)
        return False
    return True
