"""Discord rendering of events: announcements, reminders, lists. Member text is shown literally.

Times use Discord timestamps (``<t:unix:F>``, ``<t:unix:R>``) so every member reads them in their own
time zone. Every scheduled message carries the job's marker in its footer: after a crash, the
scheduler recognises a message that was already posted.
"""

from __future__ import annotations

from datetime import datetime

import discord

from peerbot.core.events import Event, Job, JobKind, Occurrence, format_offset

COLOUR = discord.Colour.from_rgb(46, 139, 87)
CANCELLED_COLOUR = discord.Colour.from_rgb(150, 150, 150)
MAX_FIELD = 1024


def literal(text: str) -> str:
    """Member text as typed: no markdown, no mentions (nobody is pinged either way)."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def when(moment: datetime) -> str:
    stamp = int(moment.timestamp())
    return f"<t:{stamp}:F> (<t:{stamp}:R>)"


def event_embed(event: Event, occurrence: Occurrence | None, *, footer: str | None = None) -> discord.Embed:
    """The event card: title, theme, time in everyone's zone, duration, link, series."""
    cancelled = event.cancelled or (occurrence is not None and occurrence.cancelled)
    title = literal(event.title)
    embed = discord.Embed(
        title=("~~" + title + "~~ (cancelled)") if cancelled else title,
        description=literal(event.description)[:4000] or None,
        colour=CANCELLED_COLOUR if cancelled else COLOUR,
    )
    embed.add_field(name="Theme", value=literal(event.theme), inline=True)
    if occurrence is not None:
        embed.add_field(name="When", value=when(occurrence.start), inline=False)
    embed.add_field(name="Duration", value=f"{event.duration_minutes} min", inline=True)
    embed.add_field(name="Time zone", value=event.timezone, inline=True)
    if event.link:
        embed.add_field(name="Link", value=event.link[:MAX_FIELD], inline=False)
    if event.recurrence is not None:
        series = event.recurrence.describe(event.zone, event.start)
        if occurrence is not None:
            series = f"Occurrence {occurrence.number} of {len(event.occurrences)}: {series}"
        embed.add_field(name="Series", value=series[:MAX_FIELD], inline=False)
    embed.set_footer(text=footer or f"event {event.id}")
    return embed


def job_message(job: Job) -> tuple[str, discord.Embed]:
    """The content and embed of a scheduled delivery, with the job's marker in the footer."""
    event, occurrence = job.event, job.occurrence
    title = literal(event.title)
    if job.kind is JobKind.ANNOUNCE:
        content = f"📅 New event: **{title}**. Will you come? Answer with the buttons."
    elif job.kind is JobKind.REMINDER:
        content = f"⏰ Reminder: **{title}** starts <t:{int(occurrence.start.timestamp())}:R>."
    elif job.kind is JobKind.REMINDER_DM:
        offset = format_offset(job.offset) if job.offset else "soon"
        content = (
            f"⏰ Reminder ({offset}): **{title}**, which you are going to, starts "
            f"<t:{int(occurrence.start.timestamp())}:R>."
        )
    elif job.kind is JobKind.STARTING:
        content = f"▶️ Starting now: **{title}**" + (f" — join here: {event.link}" if event.link else "")
    else:
        what = "The whole series" if event.cancelled and event.recurrence else "This event"
        stamp = int(occurrence.start.timestamp())
        content = f"❌ Cancelled: **{title}** on <t:{stamp}:F>. {what} will not take place."
    return content, event_embed(event, occurrence, footer=job.marker)


def events_list_embed(events: list[Event], now: datetime) -> discord.Embed:
    embed = discord.Embed(title="Upcoming events", colour=COLOUR)
    lines = []
    for event in events:
        occurrence = event.next_occurrence(now)
        if occurrence is None:
            continue
        line = f"**#{event.id}** {literal(event.title)} · {literal(event.theme)}\n{when(occurrence.start)}"
        if event.recurrence is not None:
            line += f" · occurrence {occurrence.number} of {len(event.occurrences)}"
        lines.append(line)
    embed.description = (
        "\n\n".join(lines)[:4000] if lines else "No upcoming events. Editors can add one with /event create."
    )
    return embed
