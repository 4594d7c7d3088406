"""Thematic events: what they are, how their dates repeat, and where they and their deliveries are stored.

Times are stored in UTC; occurrences are computed in the event's IANA zone so that a weekly meeting at
15:00 in Paris stays at 15:00 in Paris across daylight-saving changes. Every announcement, reminder
and "starting now" is a row of ``event_job`` that the :mod:`peerbot.core.scheduler` delivers, so
nothing is lost on restart.
"""

from __future__ import annotations

import calendar
import logging
import re
import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from peerbot.core.clock import Clock, utc_now
from peerbot.core.guild_settings import GuildSettingsError, resolve_timezone
from peerbot.core.privacy import PrivacyService
from peerbot.core.storage import Database
from peerbot.core.text import has_letter_or_digit

log = logging.getLogger(__name__)

# The six PLP themes, offered as choices; any other theme can be typed as free text.
THEMES: tuple[str, ...] = (
    "Internationalisation",
    "Women in the SSE",
    "Legal ecosystems",
    "Impact measurement and the SDGs",
    "Stakeholder engagement",
    "Cities after COVID-19",
)
TITLE_MAX = 100
THEME_MAX = 100
DESCRIPTION_MAX = 1000  # Discord's limit for a scheduled event description
LINK_MAX = 500
DURATION_RANGE = (1, 1440)
INTERVAL_RANGE = (1, 12)
MAX_OCCURRENCES = 52
DEFAULT_SERIES_COUNT = 10
DEFAULT_REMINDERS: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
DEFAULT_GRACE = timedelta(hours=6)
START_FORMAT = "YYYY-MM-DD HH:MM"  # what Discord's option descriptions show: they stay synced for months
EXAMPLE_WEEKDAY = 1  # Tuesday: examples are computed when shown, never written down (they would pass)
EXAMPLE_TIME = time(15, 0)
# A start (and a series' end) must be within this many years of now: further out is a typo, and dates
# near year 9999 overflow the zone arithmetic.
HORIZON_YEARS = 5
_ZONE_SLACK = timedelta(days=2)  # more than any UTC offset: a wall time this far out is out whatever the zone


class EventError(ValueError):
    """Input or a state a member can fix; the message says how."""


class Choice(StrEnum):
    GOING = "going"
    INTERESTED = "interested"
    NOT_GOING = "not_going"

    @property
    def label(self) -> str:
        return {"going": "Going", "interested": "Interested", "not_going": "Not going"}[self.value]

    @classmethod
    def parse(cls, text: str) -> Choice:
        wanted = text.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(wanted)
        except ValueError:
            raise EventError("Answer going, interested or not-going.") from None


class JobKind(StrEnum):
    ANNOUNCE = "announce"
    REMINDER = "reminder"
    REMINDER_DM = "reminder_dm"
    STARTING = "starting"
    CANCELLED = "cancelled"


class JobState(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    MISSED = "missed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class EventSettings:
    """Defaults for every event, from the environment (``peerbot.config``)."""

    reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS
    grace: timedelta = DEFAULT_GRACE


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Weekly every ``interval`` weeks on the start weekday, or monthly on the start's Nth weekday."""

    kind: str  # "weekly" or "monthly"
    interval: int = 1
    count: int | None = None
    until: datetime | None = None  # UTC, inclusive

    def describe(self, zone: ZoneInfo, first: datetime) -> str:
        local = first.astimezone(zone)
        if self.kind == "weekly":
            every = "week" if self.interval == 1 else f"{self.interval} weeks"
            text = f"every {every} on {local:%A}"
        else:
            nth = nth_of_month(local.date())
            text = f"monthly on the {'last' if nth == -1 else _ordinal(nth)} {local:%A}"
        if self.count:
            text += f", {self.count} times"
        if self.until:
            text += f", until {self.until.astimezone(zone):%Y-%m-%d}"
        return text


@dataclass(frozen=True, slots=True)
class EventDraft:
    """Validated input for a new event (see :func:`draft_event`)."""

    title: str
    theme: str
    start: datetime  # aware, in ``timezone``
    timezone: str
    duration_minutes: int = 60
    link: str | None = None
    description: str = ""
    recurrence: Recurrence | None = None
    reminders: tuple[timedelta, ...] | None = None  # None: the configured defaults


@dataclass(frozen=True, slots=True)
class Occurrence:
    id: int
    event_id: int
    number: int
    start: datetime  # UTC
    end: datetime  # UTC
    cancelled: bool = False
    message_channel_id: int | None = None
    message_id: int | None = None
    scheduled_event_id: int | None = None


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    guild_id: int
    channel_id: int | None
    title: str
    theme: str
    description: str
    link: str | None
    timezone: str
    start: datetime  # UTC, first occurrence
    duration_minutes: int
    recurrence: Recurrence | None
    reminders: tuple[timedelta, ...]
    created_by: int | None
    cancelled: bool
    created_at: datetime
    updated_at: datetime
    occurrences: tuple[Occurrence, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    def next_occurrence(self, now: datetime) -> Occurrence | None:
        """The first occurrence not cancelled and not over yet."""
        return next((o for o in self.occurrences if not o.cancelled and o.end > now), None)

    def occurrence(self, occurrence_id: int) -> Occurrence | None:
        return next((o for o in self.occurrences if o.id == occurrence_id), None)


# ("channel", channel id) or ("dm", member id); None when the event has no channel or the member erased
# their data (such a job fails at once, as permanent).
Destination = tuple[str, int | None]


@dataclass(frozen=True, slots=True)
class Job:
    """One delivery: an announcement, a reminder (in the channel or by DM), a start or a cancellation."""

    id: int
    kind: JobKind
    event: Event
    occurrence: Occurrence
    due_at: datetime
    state: JobState
    attempts: int
    next_attempt_at: datetime
    offset: timedelta | None = None
    member_id: int | None = None
    last_error: str | None = None
    sent_message_id: int | None = None

    @property
    def label(self) -> str:
        if self.kind is JobKind.ANNOUNCE:
            return "announcement"
        if self.kind in (JobKind.REMINDER, JobKind.REMINDER_DM):
            text = f"reminder {format_offset(self.offset or timedelta())}"
            return text + " dm" if self.kind is JobKind.REMINDER_DM else text
        if self.kind is JobKind.STARTING:
            return "starting now"
        return "cancelled"

    @property
    def marker(self) -> str:
        """Put in every message, so a delivery can be recognised after a crash."""
        return f"event {self.event.id} · {self.label} · job {self.id}"

    @property
    def destination(self) -> Destination:
        """Where it is posted: a member's DMs or the event's channel. Deliveries to one destination
        go one at a time, in order; different destinations never wait on each other."""
        if self.kind is JobKind.REMINDER_DM:
            return ("dm", self.member_id)
        return ("channel", self.event.channel_id)


@dataclass(frozen=True, slots=True)
class RsvpCounts:
    going: int = 0
    interested: int = 0
    not_going: int = 0

    def of(self, choice: Choice) -> int:
        return int(getattr(self, choice.value))


# -- parsing ---------------------------------------------------------------------------------------------


def _ordinal(number: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(number, f"{number}th")


def parse_zone(name: str | None, default: str = "UTC") -> str:
    """A canonical IANA name, or an :class:`EventError` with an example."""
    if name is None or not name.strip():
        return default
    try:
        return resolve_timezone(name)
    except GuildSettingsError as exc:
        raise EventError(str(exc)) from None


def _exists(local: datetime) -> bool:
    """False for a wall time skipped by a daylight-saving change (02:30 on a spring-forward night)."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def _ambiguous(local: datetime) -> bool:
    """True for a wall time that occurs twice (02:30 on a fall-back night): its two offsets differ."""
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


def _offset_text(local: datetime) -> str:
    offset = local.utcoffset() or timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _lead_text(lead: timedelta) -> str:
    """A member-readable span: "2h 5m", "3d 4h", "40s"."""
    seconds = max(int(lead.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(minutes)
    return " ".join(parts[:2]) or f"{seconds}s"


def check_reminders_fit(reminders: tuple[timedelta, ...] | None, start: datetime, now: datetime) -> None:
    """Reminders the member asked for must come after now: 24h before an event in 2h cannot be sent."""
    lead = start - now
    too_early = [offset for offset in reminders or () if offset >= lead]
    if too_early:
        raise EventError(
            f"The {format_offset(too_early[0])} reminder would be before now: the event starts in "
            f"{_lead_text(lead)}. Use shorter reminders, or 'none'."
        )


def example_start(timezone: str, now: datetime) -> datetime:
    """Next Tuesday at 15:00 in ``timezone``, at least a day after ``now``: a start that is valid today."""
    local = now.astimezone(ZoneInfo(timezone))
    days = (EXAMPLE_WEEKDAY - local.weekday()) % 7 or 7
    return datetime.combine(local.date() + timedelta(days=days), EXAMPLE_TIME, tzinfo=ZoneInfo(timezone))


def start_example(timezone: str, now: datetime) -> str:
    """How to write a start, with an example that is in the future when shown."""
    example = example_start(timezone, now)
    return f"{example:%Y-%m-%d %H:%M} (or ISO 8601, e.g. {example:%Y-%m-%dT%H:%M}{_offset_text(example)})"


def until_example(timezone: str, now: datetime) -> str:
    """A last date for a series, about three months after the example start."""
    return f"{example_start(timezone, now) + timedelta(weeks=13):%Y-%m-%d}"


def horizon(now: datetime) -> datetime:
    """The latest start or series end accepted: :data:`HORIZON_YEARS` after ``now`` (29 Feb -> 28 Feb)."""
    try:
        return now.replace(year=now.year + HORIZON_YEARS)
    except ValueError:
        return now.replace(year=now.year + HORIZON_YEARS, day=28)


def _wall(moment: datetime) -> datetime:
    """The naive wall time, compared with UTC bounds before any zone arithmetic (which can overflow)."""
    return moment.replace(tzinfo=None)


def _utc_wall(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _too_far(what: str, latest: datetime, zone: ZoneInfo) -> EventError:
    return EventError(
        f"{what} within the next {HORIZON_YEARS} years (before {latest.astimezone(zone):%Y-%m-%d}). "
        "Check the year."
    )


def parse_start(text: str, timezone: str, *, now: datetime) -> datetime:
    """``YYYY-MM-DD HH:MM`` (in ``timezone``) or ISO 8601 with an offset, as an aware time in the zone.

    The start must be after ``now`` and within :data:`HORIZON_YEARS` of it.
    """
    raw = (text or "").strip()
    problem = f"I couldn't read the start '{raw[:60]}'. Use {start_example(timezone, now)}."
    if len(raw) < 12 or len(raw) > 40:  # a date alone has no time of day
        raise EventError(problem)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise EventError(problem) from None
    zone = ZoneInfo(timezone)
    latest = horizon(now)
    wall = _wall(parsed)
    if wall < _utc_wall(now) - _ZONE_SLACK:  # year 1 and the like: refused before converting
        raise EventError(
            f"The start {wall.isoformat(' ', 'minutes')} ({timezone}) is in the past. "
            "Give a future date and time."
        )
    if wall > _utc_wall(latest) + _ZONE_SLACK:
        raise _too_far("That start is too far ahead: a start must be", latest, zone)
    if parsed.tzinfo is None:
        local = parsed.replace(tzinfo=zone)
        if not _exists(local):
            raise EventError(
                f"{parsed:%Y-%m-%d %H:%M} does not exist in {timezone}: the clocks change that night. "
                "Pick another time."
            )
        if _ambiguous(local):
            raise EventError(
                f"{parsed:%Y-%m-%d %H:%M} happens twice in {timezone}: the clocks go back that night. "
                f"Pick another time, or give the offset, e.g. {parsed:%Y-%m-%dT%H:%M}"
                f"{_offset_text(local.replace(fold=0))}."
            )
    else:
        local = parsed.astimezone(zone)
    if local <= now:
        raise EventError(
            f"The start {local:%Y-%m-%d %H:%M} ({timezone}) is in the past. Give a future date and time."
        )
    if local > latest:
        raise _too_far("That start is too far ahead: a start must be", latest, zone)
    return local


_OFFSET_RE = re.compile(r"^\s*(\d{1,5})\s*([smhd])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_offsets(text: str) -> tuple[timedelta, ...]:
    """``"24h,1h"`` or ``"3s"`` (units s, m, h, d) as offsets before the start, largest first."""
    parts = [part for part in (text or "").split(",") if part.strip()]
    if not parts:
        raise EventError("Give reminders like 24h,1h (units: s, m, h, d), or 'none'.")
    offsets: set[timedelta] = set()
    for part in parts:
        match = _OFFSET_RE.match(part)
        if match is None:
            raise EventError(f"I couldn't read the reminder '{part.strip()[:20]}'. Use e.g. 24h,1h or 30m.")
        seconds = int(match[1]) * _UNITS[match[2].lower()]
        if not 0 < seconds <= 30 * 86400:
            raise EventError("Reminders must be between 1 second and 30 days before the start.")
        offsets.add(timedelta(seconds=seconds))
    if len(offsets) > 5:
        raise EventError("At most 5 reminders per event.")
    return tuple(sorted(offsets, reverse=True))


def parse_reminders(text: str | None) -> tuple[timedelta, ...] | None:
    """None (use the defaults) for empty input, () for 'none', offsets otherwise."""
    if text is None or not text.strip():
        return None
    if text.strip().lower() in {"none", "no", "0"}:
        return ()
    return parse_offsets(text)


def format_offset(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_link(link: str | None) -> str | None:
    if link is None or not link.strip():
        return None
    value = link.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or any(c.isspace() for c in value):
        raise EventError(f"The link must start with http:// or https:// (got '{value[:60]}').")
    if len(value) > LINK_MAX:
        raise EventError(f"The link is {len(value)} characters long; at most {LINK_MAX}.")
    return value


def check_title(title: str | None) -> str:
    """The title with whitespace collapsed; zero-width marks or punctuation alone are not a title."""
    value = " ".join((title or "").split())
    if not has_letter_or_digit(value):
        raise EventError("The event needs a title with at least one letter or digit.")
    if len(value) > TITLE_MAX:
        raise EventError(f"The title is {len(value)} characters long; at most {TITLE_MAX}.")
    return value


def check_theme(theme: str | None) -> str:
    value = " ".join((theme or "").split())
    if not value:
        raise EventError(f"Choose a theme ({', '.join(THEMES)}) or type your own.")
    known = {name.casefold(): name for name in THEMES}
    value = known.get(value.casefold(), value)
    if len(value) > THEME_MAX:
        raise EventError(f"The theme is {len(value)} characters long; at most {THEME_MAX}.")
    return value


def check_description(description: str | None) -> str:
    value = (description or "").strip()
    if len(value) > DESCRIPTION_MAX:
        raise EventError(f"The description is {len(value)} characters long; at most {DESCRIPTION_MAX}.")
    return value


def check_duration(minutes: int | str | None) -> int:
    if minutes is None or (isinstance(minutes, str) and not minutes.strip()):
        return 60
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        raise EventError(f"The duration is in minutes, a number from 1 to 1440 (got '{minutes}').") from None
    low, high = DURATION_RANGE
    if not low <= value <= high:
        raise EventError(f"The duration must be from {low} to {high} minutes (got {value}).")
    return value


def parse_until(text: str, timezone: str, start: datetime, *, now: datetime) -> datetime:
    """The last day of a series (a date, inclusive) or a date and time, in UTC.

    It must be within :data:`HORIZON_YEARS` of ``now``, like a start.
    """
    raw = text.strip()
    zone = ZoneInfo(timezone)
    try:
        if len(raw) == 10:
            parsed = datetime.combine(date.fromisoformat(raw), time(23, 59, 59))
        else:
            parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise EventError(
            f"I couldn't read the end of the series '{raw[:40]}'. "
            f"Use a date like {start.astimezone(zone) + timedelta(weeks=13):%Y-%m-%d}."
        ) from None
    latest = horizon(now)
    wall = _wall(parsed)
    if wall < _utc_wall(start) - _ZONE_SLACK:  # refused before any zone arithmetic, which can overflow
        raise EventError("The series must end after its first occurrence.")
    if wall > _utc_wall(latest) + _ZONE_SLACK:
        raise _too_far("The series must end", latest, zone)
    until = parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed
    if until < start:
        raise EventError("The series must end after its first occurrence.")
    if until > latest:
        raise _too_far("The series must end", latest, zone)
    return until.astimezone(UTC)


def make_recurrence(
    repeat: str | None,
    *,
    interval: int | str | None = None,
    count: int | str | None = None,
    until: str | None = None,
    timezone: str,
    start: datetime,
    now: datetime,
) -> Recurrence | None:
    """The series rule from the options; None for a one-off event."""
    kind = (repeat or "").strip().lower()
    if kind in {"", "none", "no", "once"}:
        return None
    if kind not in {"weekly", "monthly"}:
        raise EventError("Repeat is weekly or monthly (or leave it empty for a one-off event).")
    every = 1
    if interval not in (None, ""):
        try:
            every = int(interval)  # type: ignore[arg-type]
        except ValueError:
            raise EventError("'every' is a number of weeks.") from None
        if not INTERVAL_RANGE[0] <= every <= INTERVAL_RANGE[1]:
            raise EventError(f"'every' must be from {INTERVAL_RANGE[0]} to {INTERVAL_RANGE[1]} weeks.")
        if kind == "monthly" and every != 1:
            raise EventError("'every N weeks' is for weekly series; monthly series repeat every month.")
    times: int | None = None
    if count not in (None, ""):
        try:
            times = int(count)  # type: ignore[arg-type]
        except ValueError:
            raise EventError("'count' is the number of occurrences.") from None
        if not 1 <= times <= MAX_OCCURRENCES:
            raise EventError(f"A series has from 1 to {MAX_OCCURRENCES} occurrences.")
    last = parse_until(until, timezone, start, now=now) if until and until.strip() else None
    if times is None and last is None:
        times = DEFAULT_SERIES_COUNT
    return Recurrence(kind, every, times, last)


def draft_event(
    *,
    title: str | None,
    theme: str | None,
    start: str,
    timezone: str | None,
    default_timezone: str,
    now: datetime,
    duration: int | str | None = None,
    link: str | None = None,
    description: str | None = None,
    repeat: str | None = None,
    every: int | str | None = None,
    count: int | str | None = None,
    until: str | None = None,
    reminders: str | None = None,
) -> EventDraft:
    """Validate every field of a new event; the first problem is raised as an :class:`EventError`."""
    zone = parse_zone(timezone, default_timezone)
    first = parse_start(start, zone, now=now)
    wanted_reminders = parse_reminders(reminders)
    check_reminders_fit(wanted_reminders, first, now)  # the configured defaults that are past are skipped
    return EventDraft(
        title=check_title(title),
        theme=check_theme(theme),
        start=first,
        timezone=zone,
        duration_minutes=check_duration(duration),
        link=check_link(link),
        description=check_description(description),
        recurrence=make_recurrence(
            repeat, interval=every, count=count, until=until, timezone=zone, start=first, now=now
        ),
        reminders=wanted_reminders,
    )


# -- recurrence ------------------------------------------------------------------------------------------


def nth_of_month(day: date) -> int:
    """Which weekday of its month ``day`` is: 1-4, or -1 for a fifth one (then "the last")."""
    nth = (day.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    days = [
        d
        for d in calendar.Calendar().itermonthdates(year, month)
        if d.month == month and d.weekday() == weekday
    ]
    return days[-1] if nth == -1 else days[nth - 1]


def expand(first: datetime, timezone: str, recurrence: Recurrence | None) -> list[datetime]:
    """Start times (UTC) of every occurrence, computed as wall times in ``timezone``."""
    zone = ZoneInfo(timezone)
    local_first = first.astimezone(zone)
    if recurrence is None:
        return [local_first.astimezone(UTC)]
    limit = min(recurrence.count or MAX_OCCURRENCES, MAX_OCCURRENCES)
    starts: list[datetime] = []
    step = 0
    nth = nth_of_month(local_first.date())
    while len(starts) < limit:
        if recurrence.kind == "weekly":
            # Aware + timedelta is wall-clock arithmetic: 15:00 stays 15:00 across a DST change.
            local = local_first + timedelta(weeks=step * recurrence.interval)
        else:
            month_index = local_first.month - 1 + step
            year, month = local_first.year + month_index // 12, month_index % 12 + 1
            local = datetime.combine(
                nth_weekday(year, month, local_first.weekday(), nth), local_first.timetz()
            )
        step += 1
        moment = local.astimezone(UTC)
        if recurrence.until is not None and moment > recurrence.until:
            break
        starts.append(moment)
    return starts


# -- storage ---------------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    """UTC with a fixed width, so text order is time order in SQL."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _offsets_text(offsets: Sequence[timedelta]) -> str:
    return ",".join(str(int(o.total_seconds())) for o in offsets)


def _offsets_from(text: str) -> tuple[timedelta, ...]:
    return tuple(timedelta(seconds=int(part)) for part in text.split(",") if part)


def _occurrence_from_row(row: sqlite3.Row, duration: timedelta) -> Occurrence:
    start = _time(row["start_at"])
    return Occurrence(
        id=row["id"],
        event_id=row["event_id"],
        number=row["number"],
        start=start,
        end=start + duration,
        cancelled=bool(row["cancelled"]),
        message_channel_id=row["message_channel_id"],
        message_id=row["message_id"],
        scheduled_event_id=row["scheduled_event_id"],
    )


def _event_from_row(row: sqlite3.Row, occurrences: Sequence[sqlite3.Row]) -> Event:
    recurrence = None
    if row["repeat"]:
        recurrence = Recurrence(
            row["repeat"], row["interval"], row["count"], _time(row["until"]) if row["until"] else None
        )
    duration = timedelta(minutes=row["duration_minutes"])
    return Event(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        title=row["title"],
        theme=row["theme"],
        description=row["description"],
        link=row["link"],
        timezone=row["timezone"],
        start=_time(row["start_at"]),
        duration_minutes=row["duration_minutes"],
        recurrence=recurrence,
        reminders=_offsets_from(row["reminders"]),
        created_by=row["created_by"],
        cancelled=bool(row["cancelled"]),
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
        occurrences=tuple(_occurrence_from_row(o, duration) for o in occurrences),
    )


@dataclass
class _JobPlan:
    kind: JobKind
    occurrence_id: int
    due_at: datetime
    offset: timedelta | None = None
    member_id: int | None = None


def _plan_jobs(
    occurrences: Sequence[Occurrence], reminders: Sequence[timedelta], now: datetime, *, announced: set[int]
) -> list[_JobPlan]:
    """Announce each occurrence (the first now, the next when the previous starts), remind, start."""
    plans: list[_JobPlan] = []
    previous: Occurrence | None = None
    for occurrence in occurrences:
        if occurrence.cancelled or occurrence.start <= now:
            previous = occurrence
            continue
        announce_at = now if previous is None else max(now, previous.start)
        if occurrence.id not in announced:
            plans.append(_JobPlan(JobKind.ANNOUNCE, occurrence.id, announce_at))
        for offset in reminders:
            due = occurrence.start - offset
            if due >= announce_at:  # a reminder before the announcement would make no sense
                plans.append(_JobPlan(JobKind.REMINDER, occurrence.id, due, offset))
        plans.append(_JobPlan(JobKind.STARTING, occurrence.id, occurrence.start))
        previous = occurrence
    return plans


class EventStore:
    """Events, their occurrences, RSVPs and delivery jobs in SQLite; schedulers listen for changes."""

    def __init__(
        self, database: Database, settings: EventSettings | None = None, *, clock: Clock = utc_now
    ) -> None:
        self._database = database
        self.settings = settings or EventSettings()
        self.clock = clock
        self._listeners: list[Callable[[], None]] = []

    # -- change notification ---------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Called after every change of the schedule (a scheduler wakes up early)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # -- events ----------------------------------------------------------------------------------------

    async def create(
        self,
        draft: EventDraft,
        *,
        guild_id: int,
        channel_id: int | None,
        created_by: int | None,
        now: datetime | None = None,
    ) -> Event:
        """Store the event, its occurrences and every delivery they need."""
        now = now or self.clock()
        starts = expand(draft.start, draft.timezone, draft.recurrence)
        reminders = self.settings.reminders if draft.reminders is None else draft.reminders
        rec = draft.recurrence
        async with self._database.transaction() as connection:
            cursor = await connection.execute(
                """
                INSERT INTO event (guild_id, channel_id, title, theme, description, link, timezone, start_at,
                                   duration_minutes, repeat, interval, count, until, reminders, created_by,
                                   created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    guild_id, channel_id, draft.title, draft.theme, draft.description, draft.link,
                    draft.timezone, _iso(starts[0]), draft.duration_minutes,
                    rec.kind if rec else None, rec.interval if rec else 1, rec.count if rec else None,
                    _iso(rec.until) if rec and rec.until else None, _offsets_text(reminders), created_by,
                    _iso(now), _iso(now),
                ),
            )  # fmt: skip
            event_id = cursor.lastrowid
            occurrences = []
            for number, start in enumerate(starts, start=1):
                cursor = await connection.execute(
                    "INSERT INTO event_occurrence (event_id, number, start_at) VALUES (?, ?, ?)",
                    (event_id, number, _iso(start)),
                )
                duration = timedelta(minutes=draft.duration_minutes)
                occurrences.append(
                    Occurrence(cursor.lastrowid or 0, event_id or 0, number, start, start + duration)
                )
            await self._insert_jobs(
                connection, event_id or 0, _plan_jobs(occurrences, reminders, now, announced=set()), now
            )
        self._changed()
        log.info("Event %s created in guild %s: %d occurrence(s)", event_id, guild_id, len(starts))
        event = await self.get(event_id or 0)
        assert event is not None
        return event

    async def _insert_jobs(
        self, connection: Any, event_id: int, plans: Sequence[_JobPlan], now: datetime
    ) -> None:
        for plan in plans:
            await connection.execute(
                """
                INSERT INTO event_job (event_id, occurrence_id, kind, offset_seconds, member_id, due_at,
                                       next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    event_id, plan.occurrence_id, plan.kind.value,
                    int(plan.offset.total_seconds()) if plan.offset is not None else None, plan.member_id,
                    _iso(plan.due_at), _iso(plan.due_at), _iso(now), _iso(now),
                ),
            )  # fmt: skip

    async def get(self, event_id: int, *, guild_id: int | None = None) -> Event | None:
        row = await self._database.fetch_one("SELECT * FROM event WHERE id = ?", (event_id,))
        if row is None or (guild_id is not None and row["guild_id"] != guild_id):
            return None
        occurrences = await self._database.fetch_all(
            "SELECT * FROM event_occurrence WHERE event_id = ? ORDER BY number", (event_id,)
        )
        return _event_from_row(row, occurrences)

    async def require(self, event_id: int, *, guild_id: int) -> Event:
        event = await self.get(event_id, guild_id=guild_id)
        if event is None:
            raise EventError(
                f"There is no event {event_id} in this server. Use /events list to see their numbers."
            )
        return event

    async def upcoming(self, guild_id: int, *, now: datetime | None = None, limit: int = 25) -> list[Event]:
        """Events of the server with an occurrence not over yet, soonest first."""
        now = now or self.clock()
        rows = await self._database.fetch_all(
            """
            SELECT e.id, MIN(o.start_at) AS next_start FROM event e
            JOIN event_occurrence o ON o.event_id = e.id
            WHERE e.guild_id = ? AND e.cancelled = 0 AND o.cancelled = 0
              AND datetime(o.start_at, '+' || e.duration_minutes || ' minutes') > datetime(?)
            GROUP BY e.id ORDER BY next_start, e.id LIMIT ?
            """,
            (guild_id, _iso(now), limit),
        )
        events = [await self.get(row["id"]) for row in rows]
        return [event for event in events if event is not None]

    async def edit(
        self, event_id: int, *, guild_id: int, now: datetime | None = None, **changes: Any
    ) -> Event:
        """Change fields (title, theme, start, timezone, duration, link, description, reminders).

        A new start, zone or duration moves every occurrence that has not started and reschedules its
        reminders; announcements already posted are edited by the front-end.
        """
        now = now or self.clock()
        event = await self.require(event_id, guild_id=guild_id)
        if event.cancelled:
            raise EventError("This event was cancelled; it can no longer be edited.")
        values: dict[str, Any] = {}
        if changes.get("title") is not None:
            values["title"] = check_title(changes["title"])
        if changes.get("theme") is not None:
            values["theme"] = check_theme(changes["theme"])
        if changes.get("description") is not None:
            values["description"] = check_description(changes["description"])
        if changes.get("link") is not None:
            values["link"] = check_link(changes["link"])
        if changes.get("duration") is not None:
            values["duration_minutes"] = check_duration(changes["duration"])
        reminders = event.reminders
        if changes.get("reminders") is not None:
            parsed = parse_reminders(changes["reminders"])
            reminders = self.settings.reminders if parsed is None else parsed
            values["reminders"] = _offsets_text(reminders)
        zone = parse_zone(changes.get("timezone"), event.timezone)
        first = event.start.astimezone(ZoneInfo(zone))
        if changes.get("start"):
            first = parse_start(changes["start"], zone, now=now)
        elif zone != event.timezone:  # same wall time, new zone
            first = first.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone))
        if changes.get("reminders") is not None:
            check_reminders_fit(parse_reminders(changes["reminders"]), first, now)
        values["timezone"] = zone
        values["start_at"] = _iso(first.astimezone(UTC))
        duration = timedelta(minutes=values.get("duration_minutes", event.duration_minutes))
        starts = expand(first, zone, event.recurrence)
        async with self._database.transaction() as connection:
            await connection.execute(
                f"UPDATE event SET {', '.join(f'{key} = ?' for key in values)}, updated_at = ? WHERE id = ?",
                (*values.values(), _iso(now), event_id),
            )
            moved: list[Occurrence] = []
            announced: set[int] = set()
            for occurrence in event.occurrences:
                if occurrence.cancelled or occurrence.start <= now:
                    moved.append(occurrence)
                    continue
                start = (
                    starts[occurrence.number - 1] if occurrence.number <= len(starts) else occurrence.start
                )
                await connection.execute(
                    "UPDATE event_occurrence SET start_at = ? WHERE id = ?", (_iso(start), occurrence.id)
                )
                moved.append(replace(occurrence, start=start, end=start + duration))
                if occurrence.message_id is not None:
                    announced.add(occurrence.id)
            async with connection.execute(
                "SELECT occurrence_id FROM event_job WHERE event_id = ? AND kind = 'announce' "
                "AND state NOT IN ('pending', 'cancelled')",
                (event_id,),
            ) as cursor:
                announced |= {row[0] for row in await cursor.fetchall()}
            await connection.execute(
                "UPDATE event_job SET state = 'cancelled', updated_at = ? "
                "WHERE event_id = ? AND state = 'pending' AND kind IN ('announce', 'reminder', 'starting')",
                (_iso(now), event_id),
            )
            await self._insert_jobs(
                connection, event_id, _plan_jobs(moved, reminders, now, announced=announced), now
            )
        self._changed()
        log.info("Event %s edited: %s", event_id, ", ".join(sorted(values)))
        edited = await self.get(event_id)
        assert edited is not None
        return edited

    async def cancel(
        self, event_id: int, *, guild_id: int, whole_series: bool = False, now: datetime | None = None
    ) -> tuple[Event, list[Occurrence]]:
        """Cancel the next occurrence, or every occurrence not started yet; queues the cancellation notice."""
        now = now or self.clock()
        event = await self.require(event_id, guild_id=guild_id)
        if event.cancelled:
            raise EventError("This event is already cancelled.")
        future = [o for o in event.occurrences if not o.cancelled and o.start > now]
        if not future:
            raise EventError(
                "Nothing left to cancel: every occurrence of this event has started or is cancelled."
            )
        targets = future if whole_series or event.recurrence is None else future[:1]
        ends_event = len(targets) == len(future) and not any(
            not o.cancelled and o.start <= now < o.end for o in event.occurrences
        )
        async with self._database.transaction() as connection:
            ids = [o.id for o in targets]
            marks = ",".join("?" * len(ids))
            await connection.execute(f"UPDATE event_occurrence SET cancelled = 1 WHERE id IN ({marks})", ids)
            await connection.execute(
                f"UPDATE event_job SET state = 'cancelled', updated_at = ? "
                f"WHERE occurrence_id IN ({marks}) AND state IN ('pending', 'in_flight')",
                (_iso(now), *ids),
            )
            if ends_event:
                await connection.execute(
                    "UPDATE event SET cancelled = 1, updated_at = ? WHERE id = ?", (_iso(now), event_id)
                )
            await self._insert_jobs(
                connection, event_id, [_JobPlan(JobKind.CANCELLED, targets[0].id, now)], now
            )
        self._changed()
        log.info("Event %s: cancelled %d occurrence(s)", event_id, len(targets))
        cancelled = await self.get(event_id)
        assert cancelled is not None
        return cancelled, [o for o in cancelled.occurrences if o.id in set(ids)]

    async def set_scheduled_event(self, occurrence_id: int, scheduled_event_id: int | None) -> None:
        await self._database.execute(
            "UPDATE event_occurrence SET scheduled_event_id = ? WHERE id = ?",
            (scheduled_event_id, occurrence_id),
        )

    # -- RSVPs -----------------------------------------------------------------------------------------

    async def rsvp(
        self,
        event_id: int,
        occurrence_id: int | None,
        member_id: int,
        choice: Choice,
        *,
        guild_id: int | None = None,
        now: datetime | None = None,
    ) -> tuple[Event, Occurrence, RsvpCounts]:
        """One answer per member per occurrence (the next one when ``occurrence_id`` is None).

        ``guild_id``: the server the answer comes from; an event of another server is not found, so
        a button whose custom id was forged or copied elsewhere cannot count.
        """
        now = now or self.clock()
        event = await self.get(event_id, guild_id=guild_id)
        if event is None:
            raise EventError(f"There is no event {event_id}. Use /events list to see their numbers.")
        occurrence = (
            event.occurrence(occurrence_id) if occurrence_id is not None else event.next_occurrence(now)
        )
        if occurrence is None and occurrence_id is None and event.cancelled:
            occurrence = event.occurrences[-1] if event.occurrences else None
        if occurrence is None:
            raise EventError("This event is over, so it no longer takes RSVPs.")
        if occurrence.cancelled or event.cancelled:
            raise EventError(
                f"Sorry, {event.title} on {occurrence.start:%Y-%m-%d} was cancelled, so it no longer takes "
                "RSVPs. Thanks for your interest!"
            )
        await self._database.execute(
            """
            INSERT INTO event_rsvp (occurrence_id, member_id, choice, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (occurrence_id, member_id) DO UPDATE SET choice = excluded.choice,
                                                             updated_at = excluded.updated_at
            """,
            (occurrence.id, member_id, choice.value, _iso(now)),
        )
        return event, occurrence, await self.counts(occurrence.id)

    async def counts(self, occurrence_id: int) -> RsvpCounts:
        rows = await self._database.fetch_all(
            "SELECT choice, COUNT(*) AS n FROM event_rsvp WHERE occurrence_id = ? GROUP BY choice",
            (occurrence_id,),
        )
        return RsvpCounts(**{row["choice"]: row["n"] for row in rows})

    async def choice_of(self, occurrence_id: int, member_id: int) -> Choice | None:
        row = await self._database.fetch_one(
            "SELECT choice FROM event_rsvp WHERE occurrence_id = ? AND member_id = ?",
            (occurrence_id, member_id),
        )
        return Choice(row["choice"]) if row else None

    # -- privacy ---------------------------------------------------------------------------------------

    def register_privacy(self, service: PrivacyService) -> None:
        """Let /privacy show and erase a member's RSVPs and pending reminder DMs."""
        service.register("event RSVPs", self._describe_member, self._erase_member)

    async def _describe_member(self, member_id: int) -> list[str]:
        rows = await self._database.fetch_all(
            """
            SELECT e.id, e.title, o.start_at, r.choice FROM event_rsvp r
            JOIN event_occurrence o ON o.id = r.occurrence_id JOIN event e ON e.id = o.event_id
            WHERE r.member_id = ? ORDER BY o.start_at
            """,
            (member_id,),
        )
        lines = [
            f"RSVP '{Choice(row['choice']).label}' to event {row['id']} ({row['title']}) on "
            f"{_time(row['start_at']):%Y-%m-%d %H:%M} UTC"
            for row in rows
        ]
        created = await self._database.fetch_one(
            "SELECT COUNT(*) AS n FROM event WHERE created_by = ?", (member_id,)
        )
        if created and created["n"]:
            lines.append(
                f"Created {created['n']} event(s) (your id is kept as their creator until you erase it)"
            )
        return lines

    async def _erase_member(self, member_id: int) -> int:
        async with self._database.transaction() as connection:
            cursor = await connection.execute("DELETE FROM event_rsvp WHERE member_id = ?", (member_id,))
            erased = cursor.rowcount
            cursor = await connection.execute(
                "DELETE FROM event_job WHERE member_id = ? AND state IN ('pending', 'in_flight')",
                (member_id,),
            )
            erased += cursor.rowcount
            await connection.execute(
                "UPDATE event_job SET member_id = NULL WHERE member_id = ?", (member_id,)
            )
            cursor = await connection.execute(
                "UPDATE event SET created_by = NULL WHERE created_by = ?", (member_id,)
            )
            erased += cursor.rowcount
        return erased

    # -- delivery jobs (used by the scheduler) ---------------------------------------------------------

    async def _job_from_row(self, row: sqlite3.Row) -> Job | None:
        event = await self.get(row["event_id"])
        occurrence = event.occurrence(row["occurrence_id"]) if event else None
        if event is None or occurrence is None:
            return None
        return Job(
            id=row["id"],
            kind=JobKind(row["kind"]),
            event=event,
            occurrence=occurrence,
            due_at=_time(row["due_at"]),
            state=JobState(row["state"]),
            attempts=row["attempts"],
            next_attempt_at=_time(row["next_attempt_at"]),
            offset=timedelta(seconds=row["offset_seconds"]) if row["offset_seconds"] is not None else None,
            member_id=row["member_id"],
            last_error=row["last_error"],
            sent_message_id=row["sent_message_id"],
        )

    async def next_job(
        self,
        *,
        only_guild: int | None = None,
        except_guild: int | None = None,
        skip: Collection[Destination] = (),
    ) -> Job | None:
        """The active job to handle first (pending or left in flight by a crash), soonest first.

        ``skip``: destinations (see :attr:`Job.destination`) busy or backed off, whose jobs wait, so
        one failing channel does not hold up the others.
        """
        where = "j.state IN ('pending', 'in_flight')"
        params: list[Any] = []
        if only_guild is not None:
            where += " AND e.guild_id = ?"
            params.append(only_guild)
        if except_guild is not None:
            where += " AND e.guild_id != ?"
            params.append(except_guild)
        for kind, column, dm_test in (("channel", "e.channel_id", "!="), ("dm", "j.member_id", "=")):
            ids = {target for way, target in skip if way == kind}
            if not ids:
                continue
            known = sorted(target for target in ids if target is not None)
            tests = [f"{column} IN ({', '.join('?' * len(known))})"] if known else []
            tests += [f"{column} IS NULL"] if None in ids else []
            where += f" AND NOT (j.kind {dm_test} 'reminder_dm' AND ({' OR '.join(tests)}))"
            params.extend(known)
        # INDEXED BY: the planner otherwise picks (state, next_attempt_at) and sorts every active job,
        # 27 ms at 10k events; the partial index in delivery order makes it one step (see bench/).
        row = await self._database.fetch_one(
            f"SELECT j.* FROM event_job j INDEXED BY event_job_next_due JOIN event e ON e.id = j.event_id "
            f"WHERE {where} ORDER BY j.next_attempt_at, j.id LIMIT 1",
            params,
        )
        return await self._job_from_row(row) if row else None

    async def job(self, job_id: int) -> Job | None:
        row = await self._database.fetch_one("SELECT * FROM event_job WHERE id = ?", (job_id,))
        return await self._job_from_row(row) if row else None

    async def jobs(self, event_id: int) -> list[Job]:
        rows = await self._database.fetch_all(
            "SELECT * FROM event_job WHERE event_id = ? ORDER BY id", (event_id,)
        )
        return [job for job in [await self._job_from_row(row) for row in rows] if job is not None]

    async def mark_in_flight(self, job: Job, now: datetime) -> Job:
        """Written before sending: a crash from here on is checked against the channel at restart."""
        await self._database.execute(
            "UPDATE event_job SET state = 'in_flight', attempts = attempts + 1, updated_at = ? WHERE id = ?",
            (_iso(now), job.id),
        )
        return replace(job, state=JobState.IN_FLIGHT, attempts=job.attempts + 1)

    async def mark_sent(
        self, job: Job, message_id: int | None, channel_id: int | None, now: datetime
    ) -> None:
        """Sent, with what follows in the same transaction (the announcement's message, reminder DMs)."""
        async with self._database.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE event_job SET state = 'sent', sent_message_id = ?, last_error = NULL, updated_at = ? "
                "WHERE id = ? AND state IN ('pending', 'in_flight')",
                (message_id, _iso(now), job.id),
            )
            if cursor.rowcount == 0:
                return  # cancelled meanwhile: nothing follows
            if job.kind is JobKind.ANNOUNCE and message_id is not None:
                await connection.execute(
                    "UPDATE event_occurrence SET message_channel_id = ?, message_id = ? WHERE id = ?",
                    (channel_id, message_id, job.occurrence.id),
                )
            if job.kind is JobKind.REMINDER:
                async with connection.execute(
                    "SELECT member_id FROM event_rsvp WHERE occurrence_id = ? AND choice = 'going' "
                    "ORDER BY member_id",
                    (job.occurrence.id,),
                ) as members:
                    going = [row[0] for row in await members.fetchall()]
                plans = [
                    _JobPlan(JobKind.REMINDER_DM, job.occurrence.id, now, job.offset, member)
                    for member in going
                ]
                await self._insert_jobs(connection, job.event.id, plans, now)
        self._changed()

    async def mark_retry(self, job: Job, error: str, retry_at: datetime, now: datetime) -> None:
        await self._database.execute(
            "UPDATE event_job SET state = 'pending', last_error = ?, next_attempt_at = ?, updated_at = ? "
            "WHERE id = ? AND state IN ('pending', 'in_flight')",
            (error[:500], _iso(retry_at), _iso(now), job.id),
        )

    async def mark_final(self, job: Job, state: JobState, error: str | None, now: datetime) -> None:
        """Missed or failed: kept (with why) for the operator, never retried."""
        await self._database.execute(
            "UPDATE event_job SET state = ?, last_error = ?, updated_at = ? "
            "WHERE id = ? AND state IN ('pending', 'in_flight')",
            (state.value, (error or "")[:500] or None, _iso(now), job.id),
        )
