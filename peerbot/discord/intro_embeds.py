"""Discord rendering of introductions: cards, peer lists, settings and privacy reports.

Members' text is shown literally: markdown is escaped and mentions are neutralised, so a name like
``**@everyone**`` reads as typed and pings nobody (allowed_mentions none is the second guard).
"""

from __future__ import annotations

import re

import discord

from peerbot.core.intro_policy import (
    TOPICS_PREVIEW,
    card_fields,
    card_sections,
    match_reason,
    results_heading,
    shorten,
)
from peerbot.core.intros import IntroDraft, Introduction, PeerMatch
from peerbot.discord.embeds import COLOUR
from peerbot.discord.markers import marked_footer

MAX_DESCRIPTION = 4096
MAX_FIELD = 1024
MAX_TITLE = 256
# <@123>, <@!123>, <@&123> and <#123> render as pings or links; a backslash shows them as typed.
_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)")


def literal(text: str) -> str:
    """Member text made safe to show: markdown escaped, @everyone/@here and <@id> shown as typed."""
    escaped = _MENTION.sub(r"\\<\1\2>", discord.utils.escape_markdown(text))
    return _EVERYONE.sub("@\u200b\\1", escaped)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_embed(
    intro: Introduction | IntroDraft, member_id: int | None = None, *, marker: str | None = None
) -> discord.Embed:
    """The introduction card: the same embed in the preview, the channel and /intro show.

    ``marker`` (a card being posted) goes at the end of the footer, so the card is found after a crash.
    """
    parts = [f"**{heading}**\n{literal(text)}" for heading, text in card_sections(intro)]
    if member_id is not None:
        parts.insert(0, f"<@{member_id}>")
    embed = discord.Embed(
        title=_cut(literal(intro.name), MAX_TITLE),
        description=_cut("\n\n".join(parts), MAX_DESCRIPTION),
        colour=COLOUR,
    )
    for label, value in card_fields(intro):
        embed.add_field(name=label, value=_cut(literal(value), MAX_FIELD), inline=True)
    footer = "Peer introduction · /intro create to write yours, /peers to find peers"
    embed.set_footer(text=marked_footer(footer, marker) if marker else footer)
    return embed


def _peer_field(match: PeerMatch, reason: str | None) -> tuple[str, str]:
    intro = match.intro
    where = " · ".join(literal(value) for _, value in card_fields(intro))
    lines = [f"<@{intro.member_id}>" + (f" · {where}" if where else "")]
    lines.append(f"Works on: {literal(shorten(intro.topics, TOPICS_PREVIEW))}")
    if reason:
        lines.append(reason)
    return _cut(literal(intro.name), MAX_TITLE), _cut("\n".join(lines), MAX_FIELD)


def peers_embed(matches: list[PeerMatch], total: int, page: int, pages: int) -> discord.Embed:
    """One page of /peers search results, best first."""
    embed = discord.Embed(title=results_heading(total, page), colour=COLOUR)
    for match in matches:
        reason = ("Matched: " + ", ".join(match.overlap)) if match.overlap else None
        name, value = _peer_field(match, reason)
        embed.add_field(name=name, value=value, inline=False)
    if pages > 1:
        embed.set_footer(text=f"Page {page} of {pages}")
    return embed


def match_embed(matches: list[PeerMatch]) -> discord.Embed:
    """/peers match: the members whose topics overlap the asker's most, with the shared words."""
    embed = discord.Embed(title="Peers who work on what you work on", colour=COLOUR)
    for match in matches:
        name, value = _peer_field(match, match_reason(match))
        embed.add_field(name=name, value=value, inline=False)
    return embed


def lines_embed(title: str, lines: list[str], *, escape: bool = True) -> discord.Embed:
    """A plain report (settings, privacy), member text escaped unless ``escape`` is off, cut to fit."""
    text = "\n".join(literal(line) if escape else line for line in lines)
    return discord.Embed(title=title, description=_cut(text, MAX_DESCRIPTION), colour=COLOUR)
