"""/setup in the terminal: show the settings, or change one (``/setup timezone Europe/Paris``).

The terminal has no channels or roles to pick, so those settings take ids (``none`` clears them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peerbot.core.guild_settings import SETTING_NAMES, GuildSettingsError
from peerbot.core.intro_policy import settings_lines
from peerbot.core.permissions import editor_refusal, is_editor

if TYPE_CHECKING:
    from peerbot.console.chat import ConsoleChat

# The names of Discord's /setup options, mapped to the stored settings.
OPTIONS: dict[str, str] = {
    "introductions_channel": "introductions_channel_id",
    "announcements_channel": "announcements_channel_id",
    "editor_role": "editor_role_id",
    "welcome": "welcome_enabled",
    "timezone": "timezone",
    "erase_on_leave": "erase_on_leave",
}
_TRUE = {"on", "yes", "true", "1", "y"}
_FALSE = {"off", "no", "false", "0", "n"}
USAGE = "Usage: /setup show, or /setup <option> <value> with option one of: " + ", ".join(OPTIONS)


def parse_value(setting: str, raw: str) -> Any:
    """The typed text as the setting's value; the store validates it further."""
    text = raw.strip()
    if setting.endswith("_id"):
        if text.casefold() in ("none", "-", ""):
            return None
        if not text.isdigit():
            raise GuildSettingsError(f"{setting.removesuffix('_id')} takes an id (digits) or 'none'")
        return int(text)
    if setting in ("welcome_enabled", "erase_on_leave"):
        if text.casefold() in _TRUE:
            return True
        if text.casefold() in _FALSE:
            return False
        raise GuildSettingsError(f"{setting} takes on or off, not '{text[:40]}'")
    return text


async def setup(chat: ConsoleChat, rest: str) -> None:
    store = chat.services.guild_settings
    name, _, raw = rest.strip().partition(" ")
    key = name.casefold().removeprefix("--")
    if key in ("", "show"):
        settings = await store.get(chat.guild_id)
        lines = settings_lines(settings, lambda i: f"channel {i}", lambda i: f"role {i}")
        chat.write("\n".join(["PeerBot settings:", *lines]))
        return
    setting = OPTIONS.get(key) or (key if key in SETTING_NAMES else None)
    if setting is None:
        chat.write(USAGE)
        return
    if not is_editor(chat.actor, await store.get(chat.guild_id)):
        chat.write(editor_refusal(None))
        return
    try:
        settings = await store.update(chat.guild_id, **{setting: parse_value(setting, raw)})
    except GuildSettingsError as exc:
        chat.write(f"Nothing was changed: {exc}")
        return
    lines = settings_lines(settings, lambda i: f"channel {i}", lambda i: f"role {i}")
    chat.write("\n".join(["Settings saved.", *lines]))


def register(chat: ConsoleChat) -> None:
    chat.add_command("setup", setup)
