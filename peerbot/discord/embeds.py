"""Discord rendering of core results: embeds and the texts that go with them."""

from __future__ import annotations

import discord

from peerbot.core.focus import missing_text
from peerbot.core.knowledge import Entry
from peerbot.core.qa import AskResult, Outcome, Topic

COLOUR = discord.Colour.from_rgb(46, 139, 87)
DECLINE = "I don't have an answer for that yet."
UNSURE = "I'm not completely sure this is what you meant; the buttons show close alternatives."
MAX_FIELD = 1024


def entry_embed(entry: Entry) -> discord.Embed:
    embed = discord.Embed(title=entry.title, description=entry.answer, colour=COLOUR)
    embed.add_field(name="Consortium", value=entry.consortium, inline=True)
    embed.add_field(name="Source", value=entry.source[:MAX_FIELD], inline=True)
    embed.set_footer(text=f"PLP lessons 2021 · {entry.id}")
    return embed


def ask_reply(result: AskResult) -> tuple[str | None, discord.Embed | None]:
    """The message content and embed for an answer, an uncertain answer or a decline."""
    if result.outcome is Outcome.INVALID:
        return result.problem, None
    if result.entry is not None:
        note = UNSURE if result.outcome is Outcome.UNCERTAIN and result.suggestions else None
        return note, entry_embed(result.entry)
    if result.missing:
        head = missing_text(result.missing)
        if result.suggestions:
            return f"{head} Here is what I know nearby:", None
        return f"{head} Peers may know: try `/peers search`, or socialeconomyandinnovation@oecd.org.", None
    if result.suggestions:
        return f"{DECLINE} Did you mean one of these?", None
    return f"{DECLINE} Try `/topics` to see what I can answer.", None


def topics_embed(topics: list[Topic]) -> discord.Embed:
    embed = discord.Embed(title="What I can answer", colour=COLOUR)
    for topic in topics[:25]:
        lines = [f"• {entry.title}" for entry in topic.entries]
        value = ""
        for line in lines:
            if len(value) + len(line) + 12 > MAX_FIELD:
                value += "\n• …"
                break
            value += ("\n" if value else "") + line
        embed.add_field(name=f"{topic.consortium} ({len(topic.entries)})", value=value or "—", inline=False)
    if not topics:
        embed.description = "No topics yet."
    return embed
