"""What both front-ends say and decide around introductions, so Discord and the terminal agree.

The store (``peerbot.core.intros``) keeps the data; this module holds the rules that are not about
storage (who may delete whose card) and the member-facing texts built from plain data.
"""

from __future__ import annotations

from collections.abc import Callable

from peerbot.core.guild_settings import GuildSettings
from peerbot.core.intros import FIELD_LIMITS, IntroDraft, Introduction, PeerMatch
from peerbot.core.permissions import Actor, is_editor

PAGE_SIZE = 5  # peers per page: five cards fit a screen in Discord and in a terminal
TOPICS_PREVIEW = 200  # characters of "what I work on" shown in a search result

NO_INTRO_SELF = "You have no introduction yet. Use /intro create to write one."
NOTHING_FOUND = "Nobody matches that yet. Try fewer or other words, or /peers search with no filter."
NO_MATCH = "Nobody else shares your topics yet. Try /peers search, or come back when more members joined."
DELETE_QUESTION = "Delete {whose} introduction and its posted card? This cannot be undone."
FORGET_QUESTION = (
    "Erase everything PeerBot stores about you in every server (your introductions and their posted "
    "cards, and all that /privacy show lists)? This cannot be undone."
)
CANCELLED = "Cancelled: nothing was changed."


def no_intro_other(name: str) -> str:
    return f"{name} has no introduction yet."


def delete_refusal(
    actor: Actor, settings: GuildSettings, member_id: int, role_name: str | None
) -> str | None:
    """Why ``actor`` may not delete ``member_id``'s introduction, or None when they may."""
    if member_id == actor.member_id or is_editor(actor, settings):
        return None
    who = "members with the Manage Server permission" + (f" or the {role_name} role" if role_name else "")
    return f"Sorry, you can delete only your own introduction. Editors ({who}) can delete anyone's."


def card_fields(intro: Introduction | IntroDraft) -> list[tuple[str, str]]:
    """(label, value) of the short fields shown on a card, empty ones left out."""
    fields = [
        (FIELD_LIMITS["organisation"].label, intro.organisation),
        (FIELD_LIMITS["country"].label, intro.country),
        ("Consortium", intro.consortium or ""),
    ]
    return [(label, value) for label, value in fields if value]


def card_sections(intro: Introduction | IntroDraft) -> list[tuple[str, str]]:
    """(heading, text) of the long fields of a card, empty ones left out."""
    sections = [
        (FIELD_LIMITS["topics"].label, intro.topics),
        (FIELD_LIMITS["offer_seek"].label, intro.offer_seek),
    ]
    return [(heading, text) for heading, text in sections if text]


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut at ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def results_heading(total: int, page: int) -> str:
    """'Peers 6-10 of 12' for page 2 (pages count from 1)."""
    if not total:
        return "Peers"
    first = (page - 1) * PAGE_SIZE + 1
    last = min(total, page * PAGE_SIZE)
    return f"Peers {first}-{last} of {total}"


def match_reason(match: PeerMatch) -> str:
    return "Shared topics: " + ", ".join(match.overlap) if match.overlap else "Listed"


def settings_lines(
    settings: GuildSettings, channel_name: Callable[[int], str], role_name: Callable[[int], str]
) -> list[str]:
    """The server's settings, one line each; the namers turn ids into what the front-end shows."""

    def channel(channel_id: int | None) -> str:
        return channel_name(channel_id) if channel_id else "not set"

    return [
        f"Introductions channel: {channel(settings.introductions_channel_id)}",
        f"Announcements channel: {channel(settings.announcements_channel_id)}",
        "Editor role: "
        + (role_name(settings.editor_role_id) if settings.editor_role_id else "not set (Manage Server only)"),
        f"Welcome new members: {'on' if settings.welcome_enabled else 'off'}",
        f"Time zone: {settings.timezone}",
        "When a member leaves: "
        + ("erase their introduction and card" if settings.erase_on_leave else "keep their introduction"),
    ]


def privacy_lines(found: dict[str, list[str]]) -> list[str]:
    """What ``PrivacyService.describe`` found, grouped by feature, or one line saying nothing is stored."""
    lines: list[str] = []
    for feature, items in found.items():
        if items:
            lines.append(f"{feature.capitalize()}:")
            lines.extend(f"  {item}" for item in items)
    return lines or ["PeerBot stores nothing about you."]


def forget_summary(erased: dict[str, int]) -> str:
    total = sum(erased.values())
    if not total:
        return "There was nothing to erase: PeerBot stores nothing about you."
    parts = ", ".join(f"{feature} ({count})" for feature, count in erased.items() if count)
    return f"Done: erased {parts}. PeerBot no longer stores anything about you."
