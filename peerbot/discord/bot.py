"""The discord.py client: intents, safe defaults and the cogs."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from peerbot.config import Settings
from peerbot.core.services import Services
from peerbot.discord.cogs.ask import AskCog
from peerbot.discord.views import EntryButton

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """The intents PeerBot needs; Message Content is privileged and must be enabled in the portal."""
    wanted = discord.Intents.default()
    wanted.message_content = True
    return wanted


class PeerBot(commands.Bot):
    def __init__(self, settings: Settings, services: Services) -> None:
        super().__init__(
            command_prefix=settings.prefix,
            intents=intents(),
            # Nobody is ever pinged by what PeerBot says, whatever the question contained.
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.settings = settings
        self.services = services

    async def setup_hook(self) -> None:
        self.add_dynamic_items(EntryButton)
        await self.add_cog(AskCog(self))
        if self.settings.guild_id:
            guild = discord.Object(self.settings.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d commands to guild %s", len(synced), self.settings.guild_id)
        else:
            synced = await self.tree.sync()
            log.info("Synced %d global commands (they may take a while to appear)", len(synced))

    async def on_ready(self) -> None:
        log.info("Ready as %s in %d guild(s)", self.user, len(self.guilds))
