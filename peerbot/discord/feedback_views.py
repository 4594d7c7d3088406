"""Helpful / Not helpful buttons under answers, and the answer's whole view.

The buttons are dynamic items (like :class:`EntryButton`): the entry id and the vote travel in the
custom id, so a vote on an answer posted before a restart still counts.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import discord

from peerbot.core.feedback import UnknownEntry, vote_message
from peerbot.core.qa import AskResult
from peerbot.discord.views import EntryButton

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)
DEFER_AFTER_S = 1.5  # well inside Discord's 3 s for a first response

PREFIX = "peerbot:vote:"
MAX_CUSTOM_ID = 100  # Discord's limit


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"peerbot:vote:(?P<vote>up|down):(?P<id>[a-z0-9-]+)"
):
    """Records the clicker's vote on one entry (one per member per entry, changeable)."""

    def __init__(self, entry_id: str, helpful: bool) -> None:
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="👍" if helpful else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{PREFIX}{'up' if helpful else 'down'}:{entry_id}",
                row=1,  # under the "did you mean" buttons
            )
        )
        self.entry_id = entry_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> VoteButton:
        return cls(match["id"], match["vote"] == "up")

    async def callback(self, interaction: discord.Interaction[PeerBot]) -> None:
        services = interaction.client.services
        guild_id = interaction.guild.id if interaction.guild else None
        # The vote is written before it is confirmed; a database busy past Discord's window gets a
        # "thinking..." first, then the confirmation, so the vote is neither lost nor left unanswered.
        vote = asyncio.ensure_future(
            services.feedback.vote(self.entry_id, interaction.user.id, self.helpful, guild_id)
        )
        done, _ = await asyncio.wait({vote}, timeout=DEFER_AFTER_S)
        deferred = not done
        if deferred:
            await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            outcome = await vote
        except UnknownEntry:
            text = "That entry is no longer in the knowledge base, so the vote was not recorded."
        else:
            entry = services.library.base.get(self.entry_id)
            title = discord.utils.escape_markdown(entry.title if entry else self.entry_id)
            text = vote_message(outcome, self.helpful, title)
        if deferred:
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)


def vote_buttons(entry_id: str) -> list[VoteButton]:
    if len(f"{PREFIX}down:{entry_id}") > MAX_CUSTOM_ID:
        return []  # an id too long to carry: no buttons rather than a rejected message
    return [VoteButton(entry_id, True), VoteButton(entry_id, False)]


def answer_view(result: AskResult) -> discord.ui.View | None:
    """The buttons under an answer: "did you mean" alternatives, then Helpful / Not helpful."""
    items: list[discord.ui.Item] = [EntryButton(entry.id, entry.title) for entry in result.suggestions]
    if result.entry is not None:
        items.extend(vote_buttons(result.entry.id))
    if not items:
        return None
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view
