"""Buttons that show a knowledge entry.

They are dynamic items: the entry id travels in the button's custom id, so "did you mean" buttons
keep working after the bot restarts, with no view to re-register.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord

from peerbot.core.knowledge import Entry
from peerbot.discord.embeds import entry_embed

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)

MAX_LABEL = 80  # Discord's limit for a button label


class EntryButton(discord.ui.DynamicItem[discord.ui.Button], template=r"peerbot:entry:(?P<id>[a-z0-9-]+)"):
    """Shows one entry, privately, to whoever clicks it."""

    def __init__(self, entry_id: str, label: str = "Show") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:MAX_LABEL],
                style=discord.ButtonStyle.secondary,
                custom_id=f"peerbot:entry:{entry_id}",
            )
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> EntryButton:
        return cls(match["id"], item.label or "Show")

    async def callback(self, interaction: discord.Interaction[PeerBot]) -> None:
        entry = interaction.client.services.questions.entry(self.entry_id)
        if entry is None:
            await interaction.response.send_message(
                "That entry is no longer in the knowledge base. Try asking again.", ephemeral=True
            )
            return
        await interaction.response.send_message(embed=entry_embed(entry), ephemeral=True)


def suggestions_view(entries: tuple[Entry, ...]) -> discord.ui.View | None:
    if not entries:
        return None
    view = discord.ui.View(timeout=None)
    for entry in entries:
        view.add_item(EntryButton(entry.id, entry.title))
    return view
