"""Per-server settings: where cards and announcements go, who edits, the time zone, data retention.

A server that never ran /setup gets the defaults, like Red-DiscordBot's registered defaults, so every
feature can read its settings without checking whether a row exists.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from peerbot.core.clock import Clock, utc_now
from peerbot.core.storage import Database

log = logging.getLogger(__name__)

TIMEZONE_EXAMPLES = "Europe/Paris or America/Mexico_City"
# The /setup option that sets each channel, for telling members how to fix a missing one.
SETUP_OPTIONS: dict[str, str] = {
    "introductions": "introductions_channel:#channel",
    "announcements": "announcements_channel:#channel",
}


class GuildSettingsError(ValueError):
    """A setting that cannot be stored; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    introductions_channel_id: int | None = None
    announcements_channel_id: int | None = None
    editor_role_id: int | None = None
    welcome_enabled: bool = True
    timezone: str = "UTC"  # IANA name
    erase_on_leave: bool = False  # keep a leaving member's introduction unless the server opts in

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_ID_FIELDS = ("introductions_channel_id", "announcements_channel_id", "editor_role_id")
_BOOL_FIELDS = ("welcome_enabled", "erase_on_leave")
SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(GuildSettings) if f.name != "guild_id")


# Files of the zone database that are not places: the machine's own zone, a template, a placeholder.
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def known_timezones() -> tuple[str, ...]:
    """Every IANA name PeerBot accepts, sorted: the system's database or, lacking one, the tzdata package."""
    return tuple(sorted(name for name in available_timezones() if name not in NOT_ZONES))


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in known_timezones()}


def suggest_timezones(typed: str, limit: int = 25) -> list[str]:
    """IANA names containing what was typed ("paris" -> Europe/Paris), best matches first."""
    wanted = typed.strip().casefold().replace(" ", "_")
    found = [name for name in known_timezones() if wanted in name.casefold()]
    found.sort(key=lambda name: (not name.casefold().startswith(wanted), "/" not in name, len(name), name))
    return found[:limit]


def resolve_timezone(name: str) -> str:
    """The canonical IANA name ("europe/paris" -> "Europe/Paris"), or a clear error with an example."""
    wanted = name.strip() if isinstance(name, str) else ""
    problem = GuildSettingsError(
        f"Unknown time zone '{wanted[:64]}'. Use an IANA name such as {TIMEZONE_EXAMPLES}, or UTC."
    )
    if not wanted or len(wanted) > 64:
        raise problem
    canonical = _zones_by_folded_name().get(wanted.casefold())
    if canonical is None:
        raise problem
    try:
        ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # ValueError: malformed keys like "../x"
        raise problem from exc
    return canonical


def _validate(key: str, value: Any) -> Any:
    if key in _ID_FIELDS:
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            return value
        raise GuildSettingsError(f"{key} must be a Discord id (a positive number) or None, not {value!r}")
    if key in _BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        raise GuildSettingsError(f"{key} must be true or false, not {value!r}")
    return resolve_timezone(value)


def missing_channel_message(kind: str) -> str:
    """What to tell a member when a feature needs a channel the server has not set."""
    option = SETUP_OPTIONS.get(kind)
    if option is None:
        raise ValueError(f"unknown channel kind '{kind}' (one of: {', '.join(SETUP_OPTIONS)})")
    return f"This server has no {kind} channel yet. An admin can set it with /setup {option}"


def _settings_from_row(row: sqlite3.Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        introductions_channel_id=row["introductions_channel_id"],
        announcements_channel_id=row["announcements_channel_id"],
        editor_role_id=row["editor_role_id"],
        welcome_enabled=bool(row["welcome_enabled"]),
        timezone=row["timezone"],
        erase_on_leave=bool(row["erase_on_leave"]),
    )


class GuildSettingsStore:
    """Settings per server in SQLite; reading an unset server gives the defaults without writing."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._database = database

    async def get(self, guild_id: int) -> GuildSettings:
        row = await self._database.fetch_one("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return _settings_from_row(row) if row else GuildSettings(guild_id)

    async def update(self, guild_id: int, /, **changes: Any) -> GuildSettings:
        """Change some settings, keeping the others; unknown names and bad values change nothing."""
        unknown = sorted(set(changes) - set(SETTING_NAMES))
        if unknown:
            raise GuildSettingsError(
                f"Unknown setting(s): {', '.join(unknown)}. Known: {', '.join(SETTING_NAMES)}"
            )
        valid = {key: _validate(key, value) for key, value in changes.items()}
        async with self._database.transaction() as connection:
            async with connection.execute(
                "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
            ) as cursor:
                row = await cursor.fetchone()
            current = _settings_from_row(row) if row else GuildSettings(guild_id)
            updated = replace(current, **valid)
            await connection.execute(
                """
                INSERT INTO guild_settings (guild_id, introductions_channel_id, announcements_channel_id,
                                            editor_role_id, welcome_enabled, timezone, erase_on_leave,
                                            updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id) DO UPDATE SET
                    introductions_channel_id = excluded.introductions_channel_id,
                    announcements_channel_id = excluded.announcements_channel_id,
                    editor_role_id = excluded.editor_role_id,
                    welcome_enabled = excluded.welcome_enabled,
                    timezone = excluded.timezone,
                    erase_on_leave = excluded.erase_on_leave,
                    updated_at = excluded.updated_at
                """,
                (
                    guild_id,
                    updated.introductions_channel_id,
                    updated.announcements_channel_id,
                    updated.editor_role_id,
                    int(updated.welcome_enabled),
                    updated.timezone,
                    int(updated.erase_on_leave),
                    self._clock().isoformat(),
                ),
            )
        if valid:
            log.info("Guild %d settings changed: %s", guild_id, ", ".join(sorted(valid)))
        return updated
