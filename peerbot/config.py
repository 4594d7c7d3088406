"""Every setting PeerBot reads, in one place, from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from peerbot.core.events import EventError, EventSettings, parse_offsets
from peerbot.core.knowledge_loader import bundled_knowledge_dir


class ConfigError(ValueError):
    """A setting with a value PeerBot cannot use; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None
    knowledge_dir: Path
    data_dir: Path
    guild_id: int | None
    prefix: str
    api_url: str | None
    gateway_url: str | None
    log_level: str
    events: EventSettings = EventSettings()  # noqa: RUF009 - frozen, so one shared default is safe

    @property
    def database_path(self) -> Path:
        return self.data_dir / "peerbot.sqlite3"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        guild = text("PEERBOT_GUILD_ID")
        if guild is not None and not guild.isdigit():
            raise ConfigError(f"PEERBOT_GUILD_ID must be a server id (digits only), got {guild!r}")
        knowledge = text("PEERBOT_KNOWLEDGE_DIR")
        level = (text("PEERBOT_LOG_LEVEL") or "INFO").upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(f"PEERBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        prefix = text("PEERBOT_PREFIX") or "!"
        if len(prefix) > 5 or any(ch.isspace() for ch in prefix):
            raise ConfigError(f"PEERBOT_PREFIX must be 1-5 characters without spaces, got {prefix!r}")
        events = _event_settings(text("PEERBOT_EVENT_REMINDERS"), text("PEERBOT_EVENT_GRACE"))
        return cls(
            token=text("DISCORD_TOKEN"),
            knowledge_dir=Path(knowledge).expanduser() if knowledge else bundled_knowledge_dir(),
            data_dir=Path(text("PEERBOT_DATA_DIR") or "peerbot-data").expanduser(),
            guild_id=int(guild) if guild else None,
            prefix=prefix,
            api_url=text("PEERBOT_DISCORD_API_URL"),
            gateway_url=text("PEERBOT_DISCORD_GATEWAY_URL"),
            log_level=level,
            events=events,
        )


def _event_settings(reminders: str | None, grace: str | None) -> EventSettings:
    """PEERBOT_EVENT_REMINDERS ("24h,1h", units s/m/h/d, or "none") and PEERBOT_EVENT_GRACE ("6h")."""
    defaults = EventSettings()
    try:
        offsets = defaults.reminders
        if reminders is not None:
            offsets = () if reminders.lower() == "none" else parse_offsets(reminders)
    except EventError as exc:
        raise ConfigError(f"PEERBOT_EVENT_REMINDERS: {exc}") from None
    try:
        window = defaults.grace
        if grace is not None:
            (window,) = parse_offsets(grace)
    except (EventError, ValueError):
        raise ConfigError(
            f"PEERBOT_EVENT_GRACE must be one duration such as 6h or 30m, got {grace!r}"
        ) from None
    return EventSettings(reminders=offsets, grace=window)
