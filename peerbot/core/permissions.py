"""Who may change shared things (settings, events, the knowledge base): editors, decided in one place.

An editor is a member with the Manage Server permission or the server's configured editor role.
Front-ends describe the member as an :class:`Actor`; the terminal chat's local user is always one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peerbot.core.guild_settings import GuildSettings


@dataclass(frozen=True, slots=True)
class Actor:
    """The member doing something, as far as permissions are concerned."""

    member_id: int
    display_name: str = ""
    role_ids: frozenset[int] = field(default_factory=frozenset)
    manage_guild: bool = False
    local: bool = False  # the terminal chat's user, who runs the bot and so edits everything


def is_editor(actor: Actor, settings: GuildSettings) -> bool:
    if actor.local or actor.manage_guild:
        return True
    return settings.editor_role_id is not None and settings.editor_role_id in actor.role_ids


def editor_refusal(role_name: str | None) -> str:
    """The polite refusal, naming what would let the member do it."""
    who = "members with the **Manage Server** permission"
    if role_name:
        who += f" or the **{role_name}** role"
    return f"Sorry, only editors can do that: {who}. Ask a server admin if you need it."


class NotAllowed(PermissionError):
    """A member tried something their role does not allow; the message says why."""
