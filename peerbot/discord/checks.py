"""Permission checks declared next to the commands they guard (as Red-DiscordBot does).

The decision itself lives in ``peerbot.core.permissions``; this module only turns a Discord member
into an :class:`Actor` and refuses politely, saying which role or permission is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from peerbot.core.permissions import Actor, editor_refusal, is_editor

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot


class NotEditor(app_commands.CheckFailure):
    """Raised by :func:`editor_only`; its message is shown to the member."""


def actor_of(interaction: discord.Interaction) -> Actor:
    user = interaction.user
    if isinstance(user, discord.Member):
        return Actor(
            user.id,
            user.display_name,
            frozenset(role.id for role in user.roles),
            manage_guild=user.guild_permissions.manage_guild,
        )
    return Actor(user.id, user.display_name)


async def check_editor(interaction: discord.Interaction[PeerBot]) -> bool:
    if interaction.guild is None:
        raise NotEditor("This command works in a server, not in direct messages.")
    settings = await interaction.client.services.guild_settings.get(interaction.guild.id)
    if is_editor(actor_of(interaction), settings):
        return True
    role = interaction.guild.get_role(settings.editor_role_id) if settings.editor_role_id else None
    # The refusal is markdown (bold names); the role's name is the server's text, shown literally.
    name = discord.utils.escape_mentions(discord.utils.escape_markdown(role.name)) if role else None
    raise NotEditor(editor_refusal(name))


def editor_only() -> app_commands.check:
    """Allow members with Manage Server or the configured editor role; refuse others, saying why."""
    return app_commands.check(check_editor)
