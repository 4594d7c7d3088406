"""In-memory model of the one guild the fake Discord serves.

The fake keeps a single test guild, a handful of users, channels, messages, application commands,
interactions and scheduled events. Payload builders here produce the JSON shapes Discord sends
(ids as snowflake strings) so that the real discord.py client parses them unchanged.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_EVENTS = 1 << 33
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
CREATE_EVENTS = 1 << 44
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
EDITOR_PERMISSIONS = MANAGE_MESSAGES | MANAGE_THREADS | MANAGE_EVENTS | CREATE_EVENTS
ADMIN_PERMISSIONS = ADMINISTRATOR | MANAGE_GUILD
BOT_ROLE_PERMISSIONS = (
    MANAGE_MESSAGES
    | MENTION_EVERYONE
    | MANAGE_EVENTS
    | CREATE_EVENTS
    | MANAGE_THREADS
    | EMBED_LINKS
    | ATTACH_FILES
)

# Message flags.
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Discord checks an enforced nonce against the author's messages of "the past few minutes".
NONCE_WINDOW_S = 300.0
# An interaction not answered within 3 s is gone: its callback answers 404 "Unknown interaction".
INTERACTION_WINDOW_S = 3.0

_MENTION_RE = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")


def iso_now() -> str:
    """ISO-8601 timestamp with timezone, the way Discord writes them."""
    return datetime.now(UTC).isoformat()


class Snowflakes:
    """Monotonic Discord snowflakes: timestamp since the Discord epoch in the high bits."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (next(self._counter) & 0xFFF)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value

    def next_str(self) -> str:
        return str(self.next())


@dataclass
class FakeUser:
    """A Discord user; ``roles`` only matters while the user is a guild member."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    roles: list[int] = field(default_factory=list)
    is_member: bool = True
    joined_at: str = field(default_factory=iso_now)
    nick: str | None = None
    accepts_dms: bool = True

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name if not self.bot else None,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class FakeRole:
    """A guild role; ``id == guild id`` is @everyone."""

    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    tags: dict[str, Any] | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.tags is not None:
            data["tags"] = self.tags
        return data


@dataclass
class FakeChannel:
    """A guild text channel (type 0) or a DM channel (type 1)."""

    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    recipient_id: int | None = None
    last_message_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self, state: FakeState) -> dict[str, Any]:
        if self.type == 1:
            recipient = state.users_by_id[self.recipient_id] if self.recipient_id else None
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "flags": 0,
                "recipients": [recipient.payload()] if recipient else [],
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "permission_overwrites": [],
            "flags": 0,
        }


@dataclass
class Interaction:
    """An interaction the fake sent to the bot, and everything the bot answered to it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    channel_id: int
    user: FakeUser
    command_name: str | None = None
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    modal_submitted: bool = False
    autocomplete_choices: list[dict[str, Any]] | None = None
    created: float = field(default_factory=time.monotonic)  # when it was dispatched to the bot
    expires_at: float | None = None  # monotonic; past it, an initial response is "Unknown interaction"
    answered_at: float | None = None  # monotonic time of the accepted initial response
    refused: int = 0  # callbacks refused because the interaction had expired

    @property
    def responded(self) -> bool:
        return bool(self.callbacks)

    @property
    def expired(self) -> bool:
        """Never answered in time: Discord shows the member "The application did not respond"."""
        return not self.responded and self.expires_at is not None and time.monotonic() > self.expires_at


class DiscordError(Exception):
    """An error the REST layer answers with Discord's JSON error shape."""

    def __init__(
        self, status: int, message: str, code: int = 0, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {message} (code {code})")
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


class FakeState:
    """The guild, its users, channels, messages and the bot's application data."""

    def __init__(self, token: str, *, guild_name: str = "PeerBot Test Guild") -> None:
        self.token = token
        self.snowflakes = Snowflakes()
        self.application_id = self.snowflakes.next()
        self.guild_id = self.snowflakes.next()
        self.guild_name = guild_name
        self.bot = FakeUser(self.application_id, "PeerBot", bot=True)
        self.users_by_id: dict[int, FakeUser] = {}
        self.users: dict[str, FakeUser] = {}
        self.roles: dict[str, FakeRole] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        self.global_commands: dict[int, dict[str, Any]] = {}
        self.guild_commands: dict[int, dict[int, dict[str, Any]]] = {}
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.scheduled_events: dict[int, dict[str, Any]] = {}
        self.dm_channels: dict[int, int] = {}
        # (channel id, nonce) -> (message id, monotonic time) for sends with enforce_nonce.
        self.nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._component_ids = itertools.count(1)
        self._build_guild()

    # -- construction ----------------------------------------------------------------------------------------

    def _build_guild(self) -> None:
        everyone = FakeRole(self.guild_id, "@everyone", EVERYONE_PERMISSIONS, position=0)
        editor = FakeRole(self.snowflakes.next(), "Editor", EDITOR_PERMISSIONS, position=1)
        admin = FakeRole(self.snowflakes.next(), "Admin", ADMIN_PERMISSIONS, position=3)
        bot_role = FakeRole(
            self.snowflakes.next(),
            "PeerBot",
            BOT_ROLE_PERMISSIONS,
            position=2,
            managed=True,
            tags={"bot_id": str(self.bot.id)},
        )
        for role in (everyone, editor, admin, bot_role):
            self.roles[role.name] = role
        self.bot.roles = [bot_role.id]
        self._add_user(self.bot)
        self.add_user("alice", global_name="Alice")
        self.add_user("bob", global_name="Bob", roles=[editor.id])
        self.owner = self.add_user("carol", global_name="Carol", roles=[admin.id])
        for position, name in enumerate(("general", "introductions", "announcements")):
            channel = FakeChannel(self.snowflakes.next(), name, 0, self.guild_id, position=position)
            self.channels[channel.id] = channel
            self.messages[channel.id] = {}

    def _add_user(self, user: FakeUser) -> FakeUser:
        self.users_by_id[user.id] = user
        self.users[user.username] = user
        return user

    def add_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        roles: list[int] | None = None,
        member: bool = True,
    ) -> FakeUser:
        """Create a user (a guild member unless ``member=False``)."""
        if username in self.users:
            raise ValueError(f"user {username!r} already exists")
        user = FakeUser(self.snowflakes.next(), username, global_name=global_name, roles=list(roles or []))
        user.is_member = member
        return self._add_user(user)

    # -- lookups ---------------------------------------------------------------------------------------------

    def user(self, ref: FakeUser | str | int) -> FakeUser:
        """Resolve a user by object, username or id."""
        if isinstance(ref, FakeUser):
            return ref
        if isinstance(ref, str) and ref in self.users:
            return self.users[ref]
        try:
            return self.users_by_id[int(ref)]
        except (KeyError, ValueError):
            raise KeyError(f"unknown user {ref!r}; known: {sorted(self.users)}") from None

    def channel(self, ref: FakeChannel | str | int) -> FakeChannel:
        """Resolve a channel by object, name (with or without '#') or id."""
        if isinstance(ref, FakeChannel):
            return ref
        if isinstance(ref, str) and not ref.isdigit():
            name = ref.lstrip("#")
            for channel in self.channels.values():
                if channel.name == name and channel.type == 0:
                    return channel
        else:
            try:
                return self.channels[int(ref)]
            except KeyError:
                pass
        names = sorted(c.name for c in self.channels.values() if c.type == 0)
        raise KeyError(f"unknown channel {ref!r}; known: {names}")

    def role(self, ref: FakeRole | str | int) -> FakeRole:
        if isinstance(ref, FakeRole):
            return ref
        if isinstance(ref, str) and ref in self.roles:
            return self.roles[ref]
        for role in self.roles.values():
            if str(role.id) == str(ref):
                return role
        raise KeyError(f"unknown role {ref!r}; known: {sorted(self.roles)}")

    def role_by_id(self, role_id: int) -> FakeRole | None:
        return next((r for r in self.roles.values() if r.id == role_id), None)

    @property
    def members(self) -> list[FakeUser]:
        return [u for u in self.users_by_id.values() if u.is_member]

    def permissions(self, user: FakeUser) -> int:
        """Guild-level permissions (no channel overwrites exist in the fake)."""
        if user.id == self.owner.id:
            return ALL_PERMISSIONS
        value = self.roles["@everyone"].permissions
        for role_id in user.roles:
            role = self.role_by_id(role_id)
            if role is not None:
                value |= role.permissions
        if value & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value

    def dm_channel_for(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user``, created on first use."""
        channel_id = self.dm_channels.get(user.id)
        if channel_id is None:
            channel = FakeChannel(
                self.snowflakes.next(), f"dm-{user.username}", 1, None, recipient_id=user.id
            )
            self.channels[channel.id] = channel
            self.messages[channel.id] = {}
            self.dm_channels[user.id] = channel.id
            return channel
        return self.channels[channel_id]

    def find_message(self, message_id: int) -> dict[str, Any] | None:
        for messages in self.messages.values():
            if message_id in messages:
                return messages[message_id]
        return None

    def all_commands(self) -> list[dict[str, Any]]:
        commands = list(self.global_commands.values())
        for guild_commands in self.guild_commands.values():
            commands.extend(guild_commands.values())
        return commands

    def find_command(self, name: str, *, type_: int = 1) -> dict[str, Any] | None:
        """A synced command by name; guild commands shadow global ones as in the Discord client."""
        for command in self.guild_commands.get(self.guild_id, {}).values():
            if command["name"] == name and command.get("type", 1) == type_:
                return command
        for command in self.global_commands.values():
            if command["name"] == name and command.get("type", 1) == type_:
                return command
        return None

    # -- payloads --------------------------------------------------------------------------------------------

    def member_payload(
        self, user: FakeUser, *, with_user: bool = True, permissions: bool = False
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in user.roles],
            "nick": user.nick,
            "avatar": None,
            "banner": None,
            "joined_at": user.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = user.payload()
        if permissions:
            data["permissions"] = str(self.permissions(user))
        return data

    def guild_payload(self) -> dict[str, Any]:
        general = self.channel("general")
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner.id),
            "application_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": str(general.id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "features": [],
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
        }

    def guild_create_payload(self) -> dict[str, Any]:
        data = self.guild_payload()
        members = self.members
        data.update(
            {
                "joined_at": self.bot.joined_at,
                "large": False,
                "unavailable": False,
                "member_count": len(members),
                "voice_states": [],
                "members": [self.member_payload(u) for u in members],
                "channels": [c.payload(self) for c in self.channels.values() if c.guild_id == self.guild_id],
                "threads": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": list(self.scheduled_events.values()),
                "soundboard_sounds": [],
                "embedded_activities": [],
            }
        )
        return data

    def application_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot.username,
            "icon": None,
            "description": "PeerBot (fake Discord)",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self.owner.payload(),
            "team": None,
            "bot": self.bot.payload(),
            "rpc_origins": [],
            "terms_of_service_url": None,
            "privacy_policy_url": None,
            "interactions_endpoint_url": None,
            "tags": [],
            "redirect_uris": [],
            "approximate_guild_count": 1,
        }

    def assign_component_ids(self, components: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """Give every component without one a numeric ``id``, as Discord does."""
        for component in components or []:
            if "id" not in component:
                component["id"] = next(self._component_ids)
            self.assign_component_ids(component.get("components"))
            if isinstance(component.get("component"), dict):
                self.assign_component_ids([component["component"]])
            if isinstance(component.get("accessory"), dict):
                self.assign_component_ids([component["accessory"]])
        return components or []

    def mentions_in(self, content: str) -> tuple[list[FakeUser], list[int]]:
        users = []
        for match in _MENTION_RE.finditer(content or ""):
            user = self.users_by_id.get(int(match.group(1)))
            if user is not None and user not in users:
                users.append(user)
        roles = [int(m.group(1)) for m in _ROLE_MENTION_RE.finditer(content or "")]
        return users, roles

    def build_message(
        self,
        *,
        channel: FakeChannel,
        author: FakeUser,
        content: str = "",
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        flags: int = 0,
        message_type: int = 0,
        tts: bool = False,
        nonce: str | int | None = None,
        message_reference: dict[str, Any] | None = None,
        webhook_id: int | None = None,
        interaction: Interaction | None = None,
        sticker_ids: list[str] | None = None,
        poll: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Full message object as the REST API returns it (no guild_id/member; the gateway adds those)."""
        mentioned, role_mentions = self.mentions_in(content)
        message_id = self.snowflakes.next()
        data: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel.id),
            "type": message_type,
            "content": content or "",
            "author": author.payload(),
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": tts,
            "mention_everyone": "@everyone" in (content or ""),
            "mentions": [
                {
                    **u.payload(),
                    **({"member": self.member_payload(u, with_user=False)} if u.is_member else {}),
                }
                for u in mentioned
            ],
            "mention_roles": [str(r) for r in role_mentions],
            "mention_channels": [],
            "attachments": attachments or [],
            "embeds": embeds or [],
            "components": self.assign_component_ids(components),
            "pinned": False,
            "flags": flags,
        }
        if nonce is not None:
            data["nonce"] = nonce
        if webhook_id is not None:
            data["webhook_id"] = str(webhook_id)
            data["application_id"] = str(self.application_id)
        if message_reference:
            # discord.py sends ids as ints; Discord answers with snowflake strings.
            ref = {
                key: str(value) if key.endswith("_id") and value is not None else value
                for key, value in message_reference.items()
            }
            ref.pop("fail_if_not_exists", None)
            ref.setdefault("channel_id", str(channel.id))
            if channel.guild_id:
                ref.setdefault("guild_id", str(channel.guild_id))
            ref.setdefault("type", 0)
            data["message_reference"] = ref
            if message_type == 0:
                data["type"] = 19
            referenced = self.find_message(int(ref["message_id"])) if ref.get("message_id") else None
            data["referenced_message"] = referenced
        if interaction is not None:
            data["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": {"0": str(self.guild_id)},
            }
            if interaction.command_name:
                data["interaction_metadata"]["name"] = interaction.command_name
                data["interaction"] = {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "name": interaction.command_name,
                    "user": interaction.user.payload(),
                }
        if sticker_ids:
            data["sticker_items"] = [{"id": s, "name": "sticker", "format_type": 1} for s in sticker_ids]
        if poll:
            data["poll"] = poll
        return data

    def message_for_nonce(self, channel_id: int, nonce: str) -> dict[str, Any] | None:
        """The bot's message sent with ``nonce`` in the channel within NONCE_WINDOW_S, if still there."""
        found = self.nonces.get((channel_id, nonce))
        if found is None or time.monotonic() - found[1] > NONCE_WINDOW_S:
            return None
        return self.messages.get(channel_id, {}).get(found[0])

    def remember_nonce(self, channel_id: int, nonce: str, message_id: int) -> None:
        self.nonces[(channel_id, nonce)] = (message_id, time.monotonic())

    def store_message(self, message: dict[str, Any]) -> None:
        channel = self.channels[int(message["channel_id"])]
        self.messages[channel.id][int(message["id"])] = message
        channel.last_message_id = int(message["id"])

    def gateway_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """The MESSAGE_CREATE/UPDATE shape: REST message plus guild_id and the author's member."""
        data = dict(message)
        channel = self.channels.get(int(message["channel_id"]))
        if channel is not None and channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            author = self.users_by_id.get(int(message["author"]["id"]))
            if author is not None and author.is_member and "webhook_id" not in message:
                data["member"] = self.member_payload(author, with_user=False)
        return data

    def attachment_payload(
        self, filename: str, data: bytes, content_type: str | None, index: int
    ) -> dict[str, Any]:
        attachment_id = self.snowflakes.next()
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": f"https://cdn.discordapp.com/attachments/0/{attachment_id}/{filename}",
            "proxy_url": f"https://media.discordapp.net/attachments/0/{attachment_id}/{filename}",
            "content_type": content_type or "application/octet-stream",
        }
