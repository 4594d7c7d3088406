"""The discord.py client: intents, safe defaults and the cogs."""

from __future__ import annotations

import logging
import sqlite3

import discord
from discord import app_commands
from discord.ext import commands

from peerbot.config import Settings
from peerbot.core.services import Services
from peerbot.core.storage import DATABASE_TROUBLE
from peerbot.discord.cogs import extension_names
from peerbot.discord.expired import expired_interaction, log_expired, quiet_expired_interactions
from peerbot.discord.intro_cards import card_publisher

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """The intents PeerBot needs; Message Content and Server Members are privileged (enable both in the
    portal). Members brings joins (the welcome) and leaves (the server's retention choice)."""
    wanted = discord.Intents.default()
    wanted.message_content = True
    wanted.members = True
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
        self.cards = card_publisher(self)  # introduction cards, posted crash-safely
        quiet_expired_interactions()  # discord.py's own answers to an expired interaction: one line

    async def setup_hook(self) -> None:
        for name in extension_names():
            await self.load_extension(name)
        self.tree.on_error = self.on_app_command_error
        if self.settings.guild_id:
            guild = discord.Object(self.settings.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d commands to guild %s", len(synced), self.settings.guild_id)
        else:
            synced = await self.tree.sync()
            log.info("Synced %d global commands (they may take a while to appear)", len(synced))

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Refusals and user errors are told to the member privately; bugs are logged, not shown.

        A database failure (a damaged page, a locked or failing disk) is named as such, so the member
        knows it is not their input and the operator finds it in the log.
        """
        name = interaction.command and interaction.command.name
        if expired_interaction(error) is not None:  # answering again could only fail the same way
            log_expired(interaction.id, f"/{name}")
            return
        if isinstance(error, app_commands.CheckFailure):
            message = str(error) or "Sorry, you can't use this command here."
        elif isinstance(getattr(error, "original", error), sqlite3.DatabaseError):
            log.error("Command %s failed: the database could not be used", name, exc_info=error)
            message = DATABASE_TROUBLE
        else:
            log.error("Command %s failed", name, exc_info=error)
            message = "Sorry, something went wrong. Please try again."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True)
            else:
                await interaction.response.send_message(message, ephemeral=True)
        except discord.HTTPException as exc:  # the member cannot be told; once in the log is enough
            log.warning("Could not tell the member /%s failed: %s", name, exc)

    async def on_ready(self) -> None:
        log.info("Ready as %s in %d guild(s)", self.user, len(self.guilds))
