"""Plain-text rendering of introductions for the terminal: the card, peer lists, reports."""

from __future__ import annotations

from peerbot.core.intro_policy import TOPICS_PREVIEW, card_fields, card_sections, match_reason, shorten
from peerbot.core.intros import IntroDraft, Introduction, PeerMatch


def card_text(intro: Introduction | IntroDraft) -> str:
    """The card as the terminal shows it; member text is printed as typed, never interpreted."""
    lines = [f"== {intro.name} =="]
    lines += [f"{label}: {value}" for label, value in card_fields(intro)]
    for heading, text in card_sections(intro):
        lines.append(f"{heading}:")
        lines += [f"  {line}" for line in text.splitlines()]
    return "\n".join(lines)


def peer_lines(matches: list[PeerMatch], *, start: int = 1, why: bool = False) -> list[str]:
    """Numbered peers, each with where they are and what they work on (and why they were found)."""
    lines: list[str] = []
    for number, match in enumerate(matches, start=start):
        intro = match.intro
        where = " · ".join(value for _, value in card_fields(intro))
        lines.append(f"{number}) {intro.name}" + (f" ({where})" if where else ""))
        lines.append(f"   Works on: {shorten(intro.topics, TOPICS_PREVIEW)}")
        if why:
            lines.append(f"   {match_reason(match)}")
        elif match.overlap:
            lines.append("   Matched: " + ", ".join(match.overlap))
    return lines
