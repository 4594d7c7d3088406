"""Plain-text rendering of core results for the terminal."""

from __future__ import annotations

import re

from peerbot.core.focus import missing_text
from peerbot.core.knowledge import Entry
from peerbot.core.qa import AskResult, Outcome, Topic

DECLINE = "I don't have an answer for that yet."
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)


def plain(markdown: str) -> str:
    """Discord's bold markers are noise in a terminal; lists and line breaks read fine as they are."""
    return _BOLD.sub(r"\1", markdown)


def entry_text(entry: Entry) -> str:
    footer = f"-- {entry.consortium} | Source: {entry.source} [{entry.id}]"
    return f"== {entry.title} ==\n{plain(entry.answer)}\n{footer}"


def suggestions_text(entries: tuple[Entry, ...]) -> str:
    lines = [f"  {number}) {entry.title}" for number, entry in enumerate(entries, start=1)]
    return "Did you mean:\n" + "\n".join(lines) + "\n(type the number to see it)"


def ask_text(result: AskResult) -> str:
    if result.outcome is Outcome.INVALID:
        return result.problem or DECLINE
    if result.entry is not None:
        text = entry_text(result.entry)
        if result.outcome is Outcome.UNCERTAIN and result.suggestions:
            text += "\n" + suggestions_text(result.suggestions)
        return text
    if result.missing:
        head = missing_text(result.missing)
        if result.suggestions:
            return f"{head} Here is what I know nearby.\n{suggestions_text(result.suggestions)}"
        return f"{head} Peers may know: try /peers, or socialeconomyandinnovation@oecd.org."
    if result.suggestions:
        return f"{DECLINE}\n{suggestions_text(result.suggestions)}"
    return f"{DECLINE} Try /topics to see what I can answer."


def topics_text(topics: list[Topic]) -> str:
    blocks = []
    for topic in topics:
        lines = [f"  - {entry.title} [{entry.id}]" for entry in topic.entries]
        blocks.append(f"{topic.consortium} ({len(topic.entries)}):\n" + "\n".join(lines))
    return "\n".join(blocks) if blocks else "No topics yet."
