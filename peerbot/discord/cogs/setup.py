"""/setup: the server's settings, for editors. With no option it shows them.

Its default permission is Manage Server, so Discord hides it from other members; a server owner can
allow it for the editor role in Server Settings > Integrations. The bot checks anyway.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from peerbot.core.guild_settings import GuildSettings, GuildSettingsError, suggest_timezones
from peerbot.core.intro_policy import settings_lines
from peerbot.discord.checks import editor_only
from peerbot.discord.intro_embeds import lines_embed
from peerbot.discord.intro_views import introduce_view

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)

INTRODUCE_YOURSELF = (
    "**Introduce yourself!** Press the button to write a short card: who you are, where you work and "
    "what you work on. You see it privately before it is posted here. `/peers search` then finds peers."
)


def settings_embed(guild: discord.Guild, settings: GuildSettings, title: str) -> discord.Embed:
    def role_name(role_id: int) -> str:
        role = guild.get_role(role_id)
        return f"@{role.name}" if role else f"a deleted role ({role_id})"

    lines = settings_lines(settings, lambda channel_id: f"<#{channel_id}>", role_name)
    return lines_embed(title, lines, escape=False)


class SetupCog(commands.Cog, name="Setup"):
    """Per-server settings through one command, as Red-DiscordBot keeps one config per guild."""

    def __init__(self, bot: PeerBot) -> None:
        self.bot = bot
        self.store = bot.services.guild_settings

    @app_commands.command(name="setup", description="PeerBot's settings here (editors); no option shows them")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @editor_only()
    @app_commands.describe(
        introductions_channel="Where introduction cards and welcomes are posted",
        announcements_channel="Where announcements are posted",
        editor_role="Members with this role may change settings and moderate (besides Manage Server)",
        welcome="Greet new members in the introductions channel",
        timezone="Time zone of the server's events, an IANA name such as Europe/Paris",
        erase_on_leave="Erase a member's introduction when they leave (off: keep it)",
    )
    async def setup_command(
        self,
        interaction: discord.Interaction[PeerBot],
        introductions_channel: discord.TextChannel | None = None,
        announcements_channel: discord.TextChannel | None = None,
        editor_role: discord.Role | None = None,
        welcome: bool | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        erase_on_leave: bool | None = None,
    ) -> None:
        guild = interaction.guild
        if guild is None:
            return
        changes: dict[str, Any] = {
            "introductions_channel_id": introductions_channel.id if introductions_channel else None,
            "announcements_channel_id": announcements_channel.id if announcements_channel else None,
            "editor_role_id": editor_role.id if editor_role else None,
            "welcome_enabled": welcome,
            "timezone": timezone,
            "erase_on_leave": erase_on_leave,
        }
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            settings = await self.store.get(guild.id)
            await interaction.response.send_message(
                embed=settings_embed(guild, settings, "PeerBot settings"), ephemeral=True
            )
            return
        try:
            settings = await self.store.update(guild.id, **changes)
        except GuildSettingsError as exc:
            await interaction.response.send_message(f"Nothing was changed: {exc}", ephemeral=True)
            return
        log.info("Member %d changed guild %d settings: %s", interaction.user.id, guild.id, ", ".join(changes))
        await interaction.response.defer(ephemeral=True, thinking=True)  # posting may wait on rate limits
        note = ""
        if introductions_channel is not None:
            try:
                await introductions_channel.send(INTRODUCE_YOURSELF, view=introduce_view())
            except discord.HTTPException:
                log.warning("Could not post in channel %d", introductions_channel.id, exc_info=True)
                note = f"\nI could not post in {introductions_channel.mention}: let me send messages there."
        await interaction.followup.send(
            "Settings saved." + note,
            embed=settings_embed(guild, settings, "PeerBot settings"),
            ephemeral=True,
        )

    @setup_command.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in suggest_timezones(current, limit=25)]


async def setup(bot: PeerBot) -> None:
    await bot.add_cog(SetupCog(bot))
