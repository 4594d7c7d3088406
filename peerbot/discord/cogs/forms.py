"""Answers for forms and buttons that outlived what they were opened for (see peerbot.discord.forms).

A form submitted after it expired or after a restart, or replayed by another member, and a private
button pressed after its view is gone, would otherwise get no reply at all ("This interaction
failed"); this cog answers them privately and logs them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from peerbot.discord.forms import answer_unmatched

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)


class FormsCog(commands.Cog, name="Forms"):
    """Looks at every interaction after discord.py dispatched it; answers only what nothing took."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await answer_unmatched(interaction)


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(FormsCog(bot))
