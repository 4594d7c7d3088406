"""/privacy show and /privacy forget-me: what PeerBot stores about a member, and erasing it all."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from peerbot.core.intro_policy import FORGET_QUESTION, forget_summary, privacy_lines
from peerbot.core.privacy import PrivacyError
from peerbot.discord.intro_cards import remove_cards
from peerbot.discord.intro_embeds import lines_embed
from peerbot.discord.intro_views import ConfirmView

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)


class PrivacyCog(commands.Cog, name="Privacy"):
    """Every feature reports its member data to the privacy service; this cog shows and erases it."""

    privacy = app_commands.Group(name="privacy", description="What PeerBot stores about you")

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    @privacy.command(name="show", description="Everything PeerBot stores about you, privately")
    async def privacy_show(self, interaction: discord.Interaction[PeerBot]) -> None:
        try:
            found = await self.bot.services.privacy.describe(interaction.user.id)
        except PrivacyError as exc:
            found = {**exc.done, "problem": [str(exc)]}
        embed = lines_embed("What PeerBot stores about you", privacy_lines(found))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @privacy.command(name="forget-me", description="Erase everything PeerBot stores about you (asks first)")
    async def forget_me(self, interaction: discord.Interaction[PeerBot]) -> None:
        member_id = interaction.user.id
        view = ConfirmView(member_id, lambda _: self.forget(member_id), confirm_label="Erase everything")
        await interaction.response.send_message(FORGET_QUESTION, view=view, ephemeral=True)

    async def forget(self, member_id: int) -> str:
        """Delete the member's posted cards first (their ids are erased next), then all their data.

        That includes a card a crash left being posted: it is found by its marker and deleted too.
        """
        services = self.bot.services
        stuck = await remove_cards(self.bot, member_id, await services.intros.cards_of(member_id))
        try:
            erased = await services.privacy.forget(member_id)
        except PrivacyError as exc:
            return str(exc)
        note = f" {stuck} posted card(s) could not be deleted: ask an admin to remove them." if stuck else ""
        return forget_summary(erased) + note


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(PrivacyCog(bot))
