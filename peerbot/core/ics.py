"""iCalendar (RFC 5545) files for events, so members can add them to their own calendar.

Times are written in UTC (no VTIMEZONE needed). A series is one VEVENT with an RRULE; because an RRULE
on a UTC start repeats in UTC, occurrences that daylight-saving moves in the event's own zone are
corrected with EXDATE/RDATE, and cancelled occurrences are excluded, so every calendar shows exactly
the occurrences PeerBot announces.
"""

from __future__ import annotations

from datetime import UTC, datetime

from peerbot.core.events import Event, Recurrence, expand

PRODID = "-//PeerBot//Thematic events//EN"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """TEXT escaping (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size = "", 0
            limit = MAX_OCTETS - 1  # continuation lines start with a space
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def rrule(recurrence: Recurrence, first: datetime, count: int) -> str:
    """The rule as a calendar expands it from the UTC start (weekday and week of month in UTC)."""
    start = first.astimezone(UTC)
    if recurrence.kind == "weekly":
        return f"FREQ=WEEKLY;INTERVAL={recurrence.interval};COUNT={count}"
    nth = (start.day - 1) // 7 + 1
    nth = -1 if nth == 5 else nth
    return f"FREQ=MONTHLY;BYDAY={nth}{_WEEKDAYS[start.weekday()]};COUNT={count}"


def event_calendar(event: Event, *, now: datetime, domain: str = "peerbot") -> str:
    """A VCALENDAR with the event (one VEVENT, an RRULE for a series), CRLF line endings, folded."""
    active = [o for o in event.occurrences if not o.cancelled]
    first = event.occurrences[0].start if event.occurrences else event.start
    if active and event.recurrence is None:
        first = active[0].start
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:event-{event.id}-guild-{event.guild_id}@{domain}",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(first)}",
        f"DTEND:{_stamp(first + event.duration)}",
    ]
    if event.recurrence is not None and len(event.occurrences) > 1:
        total = len(event.occurrences)
        lines.append(f"RRULE:{rrule(event.recurrence, first, total)}")
        in_utc = set(
            expand(first, "UTC", Recurrence(event.recurrence.kind, event.recurrence.interval, total))
        )
        wanted = {o.start for o in active}
        extra = sorted(wanted - in_utc)
        excluded = sorted(in_utc - wanted)
        if excluded:
            lines.append("EXDATE:" + ",".join(_stamp(moment) for moment in excluded))
        if extra:
            lines.append("RDATE:" + ",".join(_stamp(moment) for moment in extra))
    lines.append(f"SUMMARY:{escape_text(event.title)}")
    description = event.description
    description = f"Theme: {event.theme}" + (f"\n\n{description}" if description else "")
    lines.append(f"DESCRIPTION:{escape_text(description)}")
    lines.append(f"CATEGORIES:{escape_text(event.theme)}")
    if event.link:
        lines.append(f"URL:{event.link}")
        lines.append(f"LOCATION:{escape_text(event.link)}")
    lines.append("STATUS:" + ("CANCELLED" if event.cancelled or not active else "CONFIRMED"))
    lines.append(f"LAST-MODIFIED:{_stamp(event.updated_at)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in lines)


def filename(event: Event) -> str:
    return f"peerbot-event-{event.id}.ics"
