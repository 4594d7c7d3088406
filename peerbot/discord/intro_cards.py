"""Posting, updating and removing introduction cards in the server's introductions channel.

A member has one card per server: editing changes that message (a PATCH) instead of posting a new
one, and the card is posted again only when the old message is gone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from peerbot.core.intros import Introduction
from peerbot.discord.intro_embeds import card_embed

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)


class CardError(RuntimeError):
    """The card could not be posted; the message says why, for the member."""


async def publish_card(bot: PeerBot, intro: Introduction, channel_id: int) -> Introduction:
    """Update the member's posted card in place, or post it in ``channel_id``; returns the stored intro."""
    embed = card_embed(intro, intro.member_id)
    if intro.card is not None:
        old_channel, old_message = intro.card
        try:
            await bot.get_partial_messageable(old_channel).get_partial_message(old_message).edit(embed=embed)
            return intro
        except discord.NotFound:
            log.info("The card of member %d was deleted; posting it again", intro.member_id)
        except discord.HTTPException as exc:
            raise CardError(f"Discord refused to update your card ({exc.status}); try again.") from exc
    try:
        message = await bot.get_partial_messageable(channel_id).send(embed=embed)
    except discord.Forbidden as exc:
        raise CardError(
            f"I may not post in <#{channel_id}>: ask an admin to let me send messages and embeds there."
        ) from exc
    except discord.HTTPException as exc:
        raise CardError(f"Discord did not accept the card ({exc.status}); please try again.") from exc
    stored = await bot.services.intros.set_card(intro.guild_id, intro.member_id, channel_id, message.id)
    if stored is None:  # the introduction was deleted while the card was being posted
        await delete_card(bot, (channel_id, message.id))
        raise CardError("Your introduction was deleted meanwhile, so the card was removed.")
    return stored


async def delete_card(bot: PeerBot, card: tuple[int, int] | None) -> bool:
    """Delete a posted card; True when it is gone (also when it was already gone)."""
    if card is None:
        return True
    channel_id, message_id = card
    try:
        await bot.get_partial_messageable(channel_id).get_partial_message(message_id).delete()
    except discord.NotFound:
        return True
    except discord.HTTPException:
        log.warning("Could not delete card message %d in channel %d", message_id, channel_id, exc_info=True)
        return False
    return True
