"""RSVP buttons (Going / Interested / Not going) with live counts.

They are dynamic items: the event, occurrence and choice travel in the custom id, so the buttons of an
announcement keep working after the bot restarts, with no view to re-register.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import discord

from peerbot.core.events import Choice, EventError, RsvpCounts
from peerbot.discord.event_embeds import literal

if TYPE_CHECKING:
    from peerbot.discord.bot import PeerBot

log = logging.getLogger(__name__)
NOT_HERE = "RSVPs are given with the buttons on the event's announcement, in its server."

_STYLES = {
    Choice.GOING: discord.ButtonStyle.success,
    Choice.INTERESTED: discord.ButtonStyle.primary,
    Choice.NOT_GOING: discord.ButtonStyle.secondary,
}
_REPLIES = {
    Choice.GOING: "You're going to **{title}**. I'll send you a reminder by direct message.",
    Choice.INTERESTED: "Noted: you're interested in **{title}**.",
    Choice.NOT_GOING: "Noted: you're not going to **{title}**.",
}


def rsvp_custom_id(event_id: int, occurrence_id: int, choice: Choice) -> str:
    return f"peerbot:rsvp:{event_id}:{occurrence_id}:{choice.value}"


class RsvpButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"peerbot:rsvp:(?P<event>\d+):(?P<occurrence>\d+):(?P<choice>going|interested|not_going)",
):
    """One member's answer for one occurrence; the announcement's counts are edited in place."""

    def __init__(
        self, event_id: int, occurrence_id: int, choice: Choice, count: int = 0, *, disabled: bool = False
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"{choice.label} ({count})",
                style=_STYLES[choice],
                custom_id=rsvp_custom_id(event_id, occurrence_id, choice),
                disabled=disabled,
            )
        )
        self.event_id = event_id
        self.occurrence_id = occurrence_id
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> RsvpButton:
        return cls(int(match["event"]), int(match["occurrence"]), Choice(match["choice"]))

    async def callback(self, interaction: discord.Interaction[PeerBot]) -> None:
        store = interaction.client.services.events
        if interaction.guild_id is None:  # announcements are only posted in servers' channels
            await interaction.response.send_message(NOT_HERE, ephemeral=True)
            return
        try:
            event, occurrence, counts = await store.rsvp(
                self.event_id,
                self.occurrence_id,
                interaction.user.id,
                self.choice,
                guild_id=interaction.guild_id,
            )
        except EventError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        view = rsvp_view(event.id, occurrence.id, counts)
        await interaction.response.edit_message(view=view)
        reply = _REPLIES[self.choice].format(title=literal(event.title))
        await interaction.followup.send(reply, ephemeral=True)


def rsvp_view(
    event_id: int, occurrence_id: int, counts: RsvpCounts, *, disabled: bool = False
) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for choice in Choice:
        view.add_item(RsvpButton(event_id, occurrence_id, choice, counts.of(choice), disabled=disabled))
    return view
