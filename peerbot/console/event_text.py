"""Plain-text rendering of events for the terminal, and the terminal's sender for the scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from peerbot.core.events import Event, Job, JobKind, Occurrence, RsvpCounts, format_offset
from peerbot.core.scheduler import DeliveryReceipt

if TYPE_CHECKING:
    from peerbot.console.chat import ConsoleChat


def local_time(moment: datetime, event: Event) -> str:
    """The time in the event's zone and in UTC: a terminal has no per-reader time like Discord."""
    local = moment.astimezone(event.zone)
    return f"{local:%a %Y-%m-%d %H:%M} {event.timezone} ({moment:%H:%M} UTC)"


def event_text(event: Event, occurrence: Occurrence | None, counts: RsvpCounts | None = None) -> str:
    cancelled = event.cancelled or (occurrence is not None and occurrence.cancelled)
    lines = [f"== #{event.id} {event.title}{' (cancelled)' if cancelled else ''} =="]
    lines.append(f"Theme: {event.theme}")
    if occurrence is not None:
        lines.append(f"When: {local_time(occurrence.start, event)}, {event.duration_minutes} min")
    if event.recurrence is not None:
        series = event.recurrence.describe(event.zone, event.start)
        number = f"occurrence {occurrence.number} of {len(event.occurrences)}, " if occurrence else ""
        lines.append(f"Series: {number}{series}")
    if event.link:
        lines.append(f"Link: {event.link}")
    if event.description:
        lines.append(event.description)
    if counts is not None:
        lines.append(
            f"RSVPs: going {counts.going}, interested {counts.interested}, not going {counts.not_going}"
        )
    return "\n".join(lines)


def job_text(job: Job) -> str:
    event, occurrence = job.event, job.occurrence
    if job.kind is JobKind.ANNOUNCE:
        head = f"[announcement] New event #{event.id}: {event.title}. Answer with /rsvp {event.id} going"
    elif job.kind is JobKind.REMINDER:
        head = (
            f"[reminder] {event.title} starts in {format_offset(job.offset or occurrence.start - job.due_at)}"
        )
    elif job.kind is JobKind.REMINDER_DM:
        head = f"[reminder for you] {event.title}, which you are going to, starts soon"
    elif job.kind is JobKind.STARTING:
        head = f"[starting now] {event.title}" + (f": {event.link}" if event.link else "")
    else:
        head = f"[cancelled] {event.title} on {local_time(occurrence.start, event)} will not take place"
    return f"{head}\n{event_text(event, occurrence)}\n-- {job.marker}"


class ConsoleEventSender:
    """Prints deliveries in the chat. A terminal keeps no history to search, so after a crash a
    delivery in flight is printed again rather than lost."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def deliver(self, job: Job) -> DeliveryReceipt:
        self.chat.write(job_text(job))
        return DeliveryReceipt()

    async def find_delivered(self, job: Job) -> DeliveryReceipt | None:
        return None
