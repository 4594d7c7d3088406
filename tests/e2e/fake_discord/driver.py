# ruff: noqa: ASYNC109 - the test API takes explicit ``timeout`` arguments on purpose.
"""Test-facing actions: act as users (messages, slash commands, clicks, modals) and await the bot.

Everything goes through the gateway and REST like real Discord, so it works the same for an
in-process bot and for ``peerbot run`` in a subprocess. Waiting is event driven (``Recorder``),
not polling.

Timing notes:
* discord.py fires ``on_ready`` ``guild_ready_timeout`` (2 s by default) after the last
  GUILD_CREATE; wait for the bot's own readiness (or ``wait_for_commands``) before driving it.
* discord.py registers a view only after it read the HTTP response that carried it, so
  ``click_button``/``select`` wait until the carrying message's response was returned and then a
  short ``settle`` delay (default 0.05 s) before sending the click.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .records import Fault, Hold, Recorder, RequestRecord, SentMessage, walk_components
from .state import FakeChannel, FakeRole, FakeState, FakeUser, Interaction, iso_now

if TYPE_CHECKING:
    from collections.abc import Callable

    from .gateway import Gateway
    from .rest import RestApi

log = logging.getLogger(__name__)

UserRef = FakeUser | str | int
ChannelRef = FakeChannel | str | int
MessageRef = SentMessage | dict[str, Any] | int | str

COMMAND_TYPES = {1: "chat input", 2: "user", 3: "message"}


class CommandNotSynced(LookupError):
    """The test invoked an application command the bot never synced."""


@dataclass
class InteractionReply:
    """The bot's callback to an interaction (type 4 message, 5 defer, 8 choices, 9 modal, ...)."""

    type: int
    data: dict[str, Any]
    message: SentMessage | None

    @property
    def choices(self) -> list[dict[str, Any]]:
        return self.data.get("choices") or []

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & 64)


class InteractionHandle:
    """An interaction the driver sent; await the bot's answers through it."""

    def __init__(self, driver: Driver, interaction: Interaction) -> None:
        self._driver = driver
        self.interaction = interaction

    @property
    def id(self) -> int:
        return self.interaction.id

    @property
    def payload(self) -> dict[str, Any]:
        return self.interaction.payload

    @property
    def expired(self) -> bool:
        """Not answered within its window (``interaction_timeout``): the member saw it fail."""
        return self.interaction.expired

    @property
    def answered_after(self) -> float | None:
        """Seconds from dispatch to the accepted initial response, None if there was none."""
        answered = self.interaction.answered_at
        return None if answered is None else answered - self.interaction.created

    def _reply(self, index: int) -> InteractionReply | None:
        callbacks = self.interaction.callbacks
        if len(callbacks) <= index:
            return None
        callback = callbacks[index]
        message = None
        if callback["type"] in (4, 5, 7) and self.interaction.original_message_id is not None:
            message = self._driver._sent_message(self.interaction.original_message_id)
        return InteractionReply(callback["type"], callback["data"], message)

    async def response(self, timeout: float = 5.0) -> InteractionReply:
        """The bot's interaction callback (the first and only one Discord accepts)."""
        return await self._driver.recorder.wait_until(
            lambda: self._reply(0), timeout, lambda: self._describe("an interaction callback")
        )

    def messages(self) -> list[SentMessage]:
        """Original response (once not 'thinking' anymore) and follow-ups, oldest first."""
        ids = [self.interaction.original_message_id, *self.interaction.followup_ids]
        found = [self._driver._sent_message(i) for i in ids if i is not None]
        return [m for m in found if m is not None and not m.loading]

    async def wait_for_message(
        self, predicate: Callable[[SentMessage], bool] | None = None, timeout: float = 5.0
    ) -> SentMessage:
        """A visible message of this interaction (response, edited defer or follow-up) matching."""

        def check() -> SentMessage | None:
            return next((m for m in self.messages() if predicate is None or predicate(m)), None)

        return await self._driver.recorder.wait_until(
            check, timeout, lambda: self._describe("a matching message")
        )

    async def followup(self, index: int = 0, timeout: float = 5.0) -> SentMessage:
        """The ``index``-th follow-up message (not counting one that replaced a deferral)."""

        def check() -> SentMessage | None:
            ids = self.interaction.followup_ids
            return self._driver._sent_message(ids[index]) if len(ids) > index else None

        return await self._driver.recorder.wait_until(
            check, timeout, lambda: self._describe(f"follow-up #{index}")
        )

    def _describe(self, what: str) -> str:
        name = self.interaction.command_name or self.interaction.payload.get("data", {}).get("custom_id")
        return (
            f"timed out waiting for {what} to interaction {self.id} "
            f"(type {self.interaction.type}, {name!r}); "
            f"callbacks: {[c['type'] for c in self.interaction.callbacks]}, messages: {self.messages()}\n"
            + self._driver.recorder.summary()
        )

    def __repr__(self) -> str:
        return f"<InteractionHandle id={self.id} type={self.interaction.type}>"


class Driver:
    """Mixin for ``FakeDiscord``: needs ``state``, ``recorder``, ``gateway`` and ``rest``."""

    state: FakeState
    recorder: Recorder
    gateway: Gateway
    rest: RestApi
    _mark: int = 0
    _last_interaction: Interaction | None = None
    # Seconds an interaction waits for its initial response before it expires (404 code 10062), as
    # Discord's 3 s (``INTERACTION_WINDOW_S``); None: never. Set it to 0 to make the next one expire.
    interaction_timeout: float | None = None

    # -- lookups ---------------------------------------------------------------------------------------------

    def user(self, ref: UserRef) -> FakeUser:
        return self.state.user(ref)

    def channel(self, ref: ChannelRef) -> FakeChannel:
        return self.state.channel(ref)

    def role(self, ref: FakeRole | str | int) -> FakeRole:
        return self.state.role(ref)

    @property
    def bot_user(self) -> FakeUser:
        return self.state.bot

    @property
    def guild_id(self) -> int:
        return self.state.guild_id

    @property
    def application_id(self) -> int:
        return self.state.application_id

    @property
    def requests(self) -> list[RequestRecord]:
        return self.recorder.requests

    @property
    def messages(self) -> list[SentMessage]:
        """Every message the bot created, in order (``data`` reflects later edits)."""
        return self.recorder.messages

    @property
    def unknown_routes(self) -> list[str]:
        return self.recorder.unknown_routes

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Application commands the bot synced (global and guild), as Discord stores them."""
        return self.state.all_commands()

    def messages_in(self, channel: ChannelRef) -> list[SentMessage]:
        channel_id = self._channel_for(channel).id
        return [m for m in self.recorder.messages if m.channel_id == channel_id]

    def history(self, channel: ChannelRef) -> list[dict[str, Any]]:
        """Every stored message of a channel (users' and the bot's), oldest first."""
        channel_id = self._channel_for(channel).id
        return sorted(self.state.messages[channel_id].values(), key=lambda m: int(m["id"]))

    def _channel_for(self, ref: ChannelRef, user: FakeUser | None = None) -> FakeChannel:
        if ref == "dm":
            if user is None:
                raise ValueError("channel='dm' needs a user")
            return self.state.dm_channel_for(user)
        return self.state.channel(ref)

    def _sent_message(self, message_id: int) -> SentMessage | None:
        return next((m for m in reversed(self.recorder.messages) if m.id == message_id), None)

    def _set_mark(self) -> None:
        self._mark = self.recorder.clock

    def mark(self) -> int:
        """Current change clock; pass it as ``since`` to ``wait_for_message`` to wait from here."""
        return self.recorder.clock

    # -- users' messages -------------------------------------------------------------------------------------

    async def send_message(
        self,
        user: UserRef,
        channel: ChannelRef,
        content: str,
        *,
        reply_to: MessageRef | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Post ``content`` as ``user`` in a guild channel; returns the MESSAGE_CREATE payload."""
        author = self.state.user(user)
        target = self._channel_for(channel, author)
        reference = None
        if reply_to is not None:
            reference = {"message_id": str(self._message_id(reply_to))}
        message = self.state.build_message(
            channel=target, author=author, content=content, embeds=embeds, message_reference=reference
        )
        self.state.store_message(message)
        self._set_mark()
        data = self.state.gateway_message(message)
        log.info("%s says in #%s: %r", author.username, target.name, content)
        await self.gateway.dispatch("MESSAGE_CREATE", data)
        return data

    async def send_dm(self, user: UserRef, content: str) -> dict[str, Any]:
        """Send the bot a direct message from ``user``."""
        author = self.state.user(user)
        channel = self.state.dm_channel_for(author)
        message = self.state.build_message(channel=channel, author=author, content=content)
        self.state.store_message(message)
        self._set_mark()
        log.info("%s DMs the bot: %r", author.username, content)
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return message

    async def react(self, user: UserRef, message: MessageRef, emoji: str) -> None:
        """Add a unicode reaction as ``user`` (MESSAGE_REACTION_ADD)."""
        author = self.state.user(user)
        stored = self._stored_message(message)
        data: dict[str, Any] = {
            "user_id": str(author.id),
            "channel_id": stored["channel_id"],
            "message_id": stored["id"],
            "emoji": {"id": None, "name": emoji},
            "message_author_id": stored["author"]["id"],
            "type": 0,
            "burst": False,
        }
        channel = self.state.channels[int(stored["channel_id"])]
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
            data["member"] = self.state.member_payload(author)
        self._set_mark()
        await self.gateway.dispatch("MESSAGE_REACTION_ADD", data)

    async def member_join(self, user: UserRef) -> FakeUser:
        """A user (new if the name is unknown) joins the guild: GUILD_MEMBER_ADD."""
        if isinstance(user, str) and user not in self.state.users and not user.isdigit():
            member = self.state.add_user(user, global_name=user.capitalize(), member=False)
        else:
            member = self.state.user(user)
        member.is_member = True
        member.joined_at = iso_now()
        self._set_mark()
        await self.gateway.dispatch(
            "GUILD_MEMBER_ADD", {**self.state.member_payload(member), "guild_id": str(self.state.guild_id)}
        )
        return member

    async def member_leave(self, user: UserRef) -> None:
        """A member leaves the guild: GUILD_MEMBER_REMOVE."""
        member = self.state.user(user)
        member.is_member = False
        self._set_mark()
        await self.gateway.dispatch(
            "GUILD_MEMBER_REMOVE", {"guild_id": str(self.state.guild_id), "user": member.payload()}
        )

    # -- interactions ----------------------------------------------------------------------------------------

    def _command(self, name: str, type_: int = 1) -> dict[str, Any]:
        command = self.state.find_command(name, type_=type_)
        if command is None:
            synced = sorted(
                f"{c['name']} ({COMMAND_TYPES.get(c['type'], c['type'])})" for c in self.state.all_commands()
            )
            raise CommandNotSynced(
                f"the bot never synced a {COMMAND_TYPES.get(type_)} command {name!r}; synced: {synced}"
            )
        return command

    def _base_interaction(self, type_: int, user: FakeUser, channel: FakeChannel) -> dict[str, Any]:
        interaction_id = self.state.snowflakes.next()
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.state.application_id),
            "type": type_,
            "token": f"fake-interaction-{interaction_id}-{secrets.token_hex(16)}",
            "version": 1,
            "locale": "en-US",
            "app_permissions": str(self.state.permissions(self.state.bot)),
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if channel.guild_id is not None:
            payload.update(
                guild_id=str(channel.guild_id),
                guild={"id": str(channel.guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel_id=str(channel.id),
                channel={**channel.payload(self.state), "permissions": str(self.state.permissions(user))},
                member=self.state.member_payload(user, permissions=True),
                authorizing_integration_owners={"0": str(channel.guild_id)},
                context=0,
            )
        else:
            payload.update(
                channel_id=str(channel.id),
                channel=channel.payload(self.state),
                user=user.payload(),
                authorizing_integration_owners={"0": str(self.state.guild_id)},
                context=1,
            )
        return payload

    async def _send_interaction(
        self, payload: dict[str, Any], user: FakeUser, channel: FakeChannel, command_name: str | None = None
    ) -> InteractionHandle:
        interaction = Interaction(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            payload=payload,
            channel_id=channel.id,
            user=user,
            command_name=command_name,
        )
        if self.interaction_timeout is not None:
            interaction.expires_at = interaction.created + self.interaction_timeout
        self.state.interactions[interaction.id] = interaction
        self.state.interactions_by_token[interaction.token] = interaction
        self._last_interaction = interaction
        self._set_mark()
        log.info("%s sends interaction type %s (%s)", user.username, interaction.type, command_name or "")
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return InteractionHandle(self, interaction)

    def _resolve_value(
        self, option: dict[str, Any], value: Any, resolved: dict[str, dict[str, Any]], focused: bool
    ) -> Any:
        type_ = option["type"]
        name = option["name"]
        if focused:
            return str(value)
        if type_ == 3:
            value = str(value)
            if "min_length" in option and len(value) < option["min_length"]:
                raise ValueError(f"option {name!r} shorter than min_length {option['min_length']}")
            if "max_length" in option and len(value) > option["max_length"]:
                raise ValueError(f"option {name!r} longer than max_length {option['max_length']}")
        elif type_ in (4, 10):
            value = int(value) if type_ == 4 else float(value)
            if "min_value" in option and value < option["min_value"]:
                raise ValueError(f"option {name!r} below min_value {option['min_value']}")
            if "max_value" in option and value > option["max_value"]:
                raise ValueError(f"option {name!r} above max_value {option['max_value']}")
        elif type_ == 5:
            value = bool(value)
        elif type_ == 6 or (
            type_ == 9 and not isinstance(value, FakeRole) and str(value) not in self.state.roles
        ):
            target = self.state.user(value)
            resolved.setdefault("users", {})[str(target.id)] = target.payload()
            if target.is_member:
                member = self.state.member_payload(target, with_user=False, permissions=True)
                resolved.setdefault("members", {})[str(target.id)] = member
            value = str(target.id)
        elif type_ in (8, 9):
            role = self.state.role(value)
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            value = str(role.id)
        elif type_ == 7:
            channel = self.state.channel(value)
            data = channel.payload(self.state)
            data["permissions"] = str(self.state.permissions(self.state.bot))
            resolved.setdefault("channels", {})[str(channel.id)] = data
            value = str(channel.id)
        else:
            raise NotImplementedError(f"option type {type_} ({name!r}) is not supported by the fake")
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not a choice of option {name!r}: {[c['value'] for c in choices]}")
        return value

    def _build_options(
        self,
        definitions: list[dict[str, Any]],
        values: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        focused: str | None,
        where: str,
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in definitions if o["type"] not in (1, 2)}
        unknown = set(values) - set(by_name)
        if unknown:
            raise ValueError(f"{where} has no option(s) {sorted(unknown)}; options: {sorted(by_name)}")
        if focused is None:
            missing = [n for n, o in by_name.items() if o.get("required") and n not in values]
            if missing:
                raise ValueError(f"{where}: required option(s) {missing} missing")
        elif focused not in by_name:
            raise ValueError(f"{where} has no option {focused!r} to focus; options: {sorted(by_name)}")
        elif not by_name[focused].get("autocomplete"):
            raise ValueError(f"option {focused!r} of {where} has no autocomplete")
        options = []
        for name, value in values.items():
            definition = by_name[name]
            is_focused = name == focused
            entry: dict[str, Any] = {
                "name": name,
                "type": definition["type"],
                "value": self._resolve_value(definition, value, resolved, is_focused),
            }
            if is_focused:
                entry["focused"] = True
            options.append(entry)
        if focused is not None and focused not in values:
            options.append({"name": focused, "type": by_name[focused]["type"], "value": "", "focused": True})
        return options

    def _command_data(
        self, name: str, options: dict[str, Any] | None, focused: str | None
    ) -> tuple[dict[str, Any], str]:
        parts = name.split()
        command = self._command(parts[0])
        resolved: dict[str, dict[str, Any]] = {}
        definitions = command.get("options") or []
        path = parts[1:]
        chain: list[dict[str, Any]] = []
        for part in path:
            sub = next((o for o in definitions if o["name"] == part and o["type"] in (1, 2)), None)
            if sub is None:
                subs = [o["name"] for o in definitions if o["type"] in (1, 2)]
                raise CommandNotSynced(
                    f"command {' '.join(parts[: len(chain) + 1])!r} has no subcommand {part!r}: {subs}"
                )
            chain.append(sub)
            definitions = sub.get("options") or []
        if any(o["type"] in (1, 2) for o in definitions):
            subs = [o["name"] for o in definitions if o["type"] in (1, 2)]
            raise ValueError(f"{name!r} is a group; name one of its subcommands: {subs}")
        leaf_options = self._build_options(definitions, dict(options or {}), resolved, focused, repr(name))
        for sub in reversed(chain):
            leaf_options = [{"name": sub["name"], "type": sub["type"], "options": leaf_options}]
        data: dict[str, Any] = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": leaf_options,
        }
        if resolved:
            data["resolved"] = resolved
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return data, name

    async def invoke_slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: UserRef = "alice",
        channel: ChannelRef = "general",
    ) -> InteractionHandle:
        """Run ``/name`` (``"intro show"`` for a subcommand) with ``options`` as ``user``.

        User/role/channel options take names or ids and are put in ``data.resolved``. Raises
        ``CommandNotSynced`` if the bot never synced the command, ``ValueError`` for options the
        Discord client would refuse (unknown, missing required, not a choice, out of range).
        """
        author = self.state.user(user)
        target = self._channel_for(channel, author)
        data, command_name = self._command_data(name, options, None)
        payload = self._base_interaction(2, author, target)
        payload["data"] = data
        return await self._send_interaction(payload, author, target, command_name)

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any] | None,
        focused_option: str,
        *,
        user: UserRef = "alice",
        channel: ChannelRef = "general",
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Send an autocomplete interaction with ``focused_option`` focused; return the bot's choices."""
        handle = await self.send_autocomplete(name, options, focused_option, user=user, channel=channel)
        reply = await handle.response(timeout)
        if reply.type != 8:
            raise AssertionError(
                f"bot answered autocomplete with callback type {reply.type}, not 8: {reply.data}"
            )
        return reply.choices

    async def send_autocomplete(
        self,
        name: str,
        options: dict[str, Any] | None,
        focused_option: str,
        *,
        user: UserRef = "alice",
        channel: ChannelRef = "general",
    ) -> InteractionHandle:
        """Send an autocomplete interaction and return at once (``autocomplete`` waits for choices)."""
        author = self.state.user(user)
        target = self._channel_for(channel, author)
        data, command_name = self._command_data(name, options, focused_option)
        payload = self._base_interaction(4, author, target)
        payload["data"] = data
        return await self._send_interaction(payload, author, target, command_name)

    def _message_id(self, message: MessageRef) -> int:
        if isinstance(message, SentMessage):
            return message.id
        if isinstance(message, dict):
            return int(message["id"])
        return int(message)

    def _stored_message(self, message: MessageRef) -> dict[str, Any]:
        stored = self.state.find_message(self._message_id(message))
        if stored is None:
            raise LookupError(f"no message {self._message_id(message)} (deleted?)")
        return stored

    async def _settled(self, message_id: int, settle: float, timeout: float) -> None:
        """Wait until the REST response carrying the message reached the bot, plus ``settle``."""
        sent = self._sent_message(message_id)
        if sent is None:
            return
        await self.recorder.wait_until(
            lambda: sent.returned, timeout, lambda: f"message {message_id} never returned to the bot"
        )
        assert sent.request is None or sent.request.responded_at is not None
        wait = (sent.request.responded_at if sent.request else 0) + settle - time.time()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _component_interaction(
        self,
        message: MessageRef,
        custom_id: str,
        user: UserRef,
        settle: float,
        timeout: float,
        build: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> InteractionHandle:
        message_id = self._message_id(message)
        await self._settled(message_id, settle, timeout)
        stored = self._stored_message(message_id)
        component = next(
            (c for c in walk_components(stored.get("components")) if c.get("custom_id") == custom_id), None
        )
        if component is None:
            ids = [c["custom_id"] for c in walk_components(stored.get("components")) if "custom_id" in c]
            raise LookupError(f"message {message_id} has no component {custom_id!r}; it has {ids}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; Discord would not let a user use it")
        author = self.state.user(user)
        channel = self.state.channels[int(stored["channel_id"])]
        payload = self._base_interaction(3, author, channel)
        payload["data"] = build(component)
        payload["message"] = self.state.gateway_message(stored)
        return await self._send_interaction(payload, author, channel)

    async def click_button(
        self,
        message: MessageRef,
        custom_id: str,
        *,
        user: UserRef = "alice",
        settle: float = 0.05,
        timeout: float = 5.0,
    ) -> InteractionHandle:
        """Click the button ``custom_id`` on ``message`` (any message, ephemeral ones included)."""

        def build(component: dict[str, Any]) -> dict[str, Any]:
            if component.get("type") != 2:
                raise ValueError(f"component {custom_id!r} is type {component.get('type')}, not a button")
            return {"custom_id": custom_id, "component_type": 2}

        return await self._component_interaction(message, custom_id, user, settle, timeout, build)

    async def select(
        self,
        message: MessageRef,
        custom_id: str,
        values: list[Any],
        *,
        user: UserRef = "alice",
        settle: float = 0.05,
        timeout: float = 5.0,
    ) -> InteractionHandle:
        """Choose ``values`` in the select menu ``custom_id`` (string, user, role, channel selects)."""

        def build(component: dict[str, Any]) -> dict[str, Any]:
            kind = component.get("type")
            if kind not in (3, 5, 6, 7, 8):
                raise ValueError(f"component {custom_id!r} is type {kind}, not a select menu")
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            if not low <= len(values) <= high:
                raise ValueError(f"select {custom_id!r} takes {low}..{high} values, got {len(values)}")
            data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind}
            resolved: dict[str, dict[str, Any]] = {}
            if kind == 3:
                allowed = [o["value"] for o in component.get("options") or []]
                bad = [v for v in values if v not in allowed]
                if bad:
                    raise ValueError(f"{bad} are not options of select {custom_id!r}: {allowed}")
                data["values"] = list(values)
            else:
                option_type = {5: 6, 6: 8, 7: 9, 8: 7}[kind]
                data["values"] = [
                    self._resolve_value({"type": option_type, "name": custom_id}, v, resolved, False)
                    for v in values
                ]
                data["resolved"] = resolved
            return data

        return await self._component_interaction(message, custom_id, user, settle, timeout, build)

    def _open_modals(self) -> list[Interaction]:
        return [i for i in self.state.interactions.values() if i.modal is not None and not i.modal_submitted]

    async def submit_modal(
        self,
        values: dict[str, str | list[str]],
        *,
        custom_id: str | None = None,
        user: UserRef | None = None,
        interaction: InteractionHandle | None = None,
        settle: float = 0.05,
        timeout: float = 5.0,
    ) -> InteractionHandle:
        """Fill and submit the modal the bot opened most recently (or the one with ``custom_id``, or
        the one it opened in answer to ``interaction``).

        ``user`` other than the modal's: replays its custom id as that user (what a modified client
        can do); the modal stays open for the user it was opened for.

        ``values`` maps text input (or select) custom_ids to what the user typed (chose). The
        submitted ``data.components`` mirror the modal's layout (action rows or 2.6+ labels), which
        is what discord.py 2.7 walks. Waits up to ``timeout`` for the bot to open the modal, then
        ``settle`` seconds after the callback's HTTP response (discord.py registers the modal then).
        """

        def find() -> Interaction | None:
            if interaction is not None:
                opener = interaction.interaction
                return opener if opener.modal is not None and not opener.modal_submitted else None
            last = self._last_interaction
            if last is not None and not last.responded:
                return None  # it may be about to open the modal the test means
            modals = [i for i in self._open_modals() if custom_id in (None, (i.modal or {}).get("custom_id"))]
            return modals[-1] if modals else None

        opener = await self.recorder.wait_until(
            find, timeout, lambda: f"the bot opened no modal {custom_id or ''}\n" + self.recorder.summary()
        )
        # discord.py listens for the modal only once it read the callback's HTTP response.
        request = opener.callbacks[-1]["request"] if opener.callbacks else None
        if request is not None:
            await self.recorder.wait_until(
                lambda: request.responded_at is not None, timeout, lambda: "modal callback never answered"
            )
            delay = request.responded_at + settle - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
        modal = opener.modal or {}
        remaining = dict(values)
        components = self._mirror_modal(modal.get("components") or [], remaining)
        if remaining:
            ids = [c["custom_id"] for c in walk_components(modal.get("components")) if "custom_id" in c]
            raise KeyError(
                f"modal {modal.get('custom_id')!r} has no input(s) {sorted(remaining)}; inputs: {ids}"
            )
        author = self.state.user(user) if user is not None else opener.user
        channel = self.state.channels[opener.channel_id]
        payload = self._base_interaction(5, author, channel)
        payload["data"] = {"custom_id": modal["custom_id"], "components": components}
        if opener.payload.get("message"):
            stored = self.state.find_message(int(opener.payload["message"]["id"]))
            payload["message"] = self.state.gateway_message(stored) if stored else opener.payload["message"]
        if author.id == opener.user.id:
            opener.modal_submitted = True  # Discord closes a modal when its own user submits it
        # else: a replay of the modal's custom id by another user (a modified client); the
        # owner's modal stays open, as it would in their Discord client.
        return await self._send_interaction(payload, author, channel)

    def _mirror_modal(self, components: list[dict[str, Any]], values: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for component in components:
            kind = component.get("type")
            base: dict[str, Any] = {"type": kind}
            if "id" in component:
                base["id"] = component["id"]
            if kind == 1:
                out.append(
                    {**base, "components": self._mirror_modal(component.get("components") or [], values)}
                )
            elif kind == 18:
                out.append({**base, "component": self._mirror_modal([component["component"]], values)[0]})
            elif kind == 4:
                cid = component["custom_id"]
                value = str(values.pop(cid, component.get("value") or ""))
                if component.get("required", True) and not value:
                    raise ValueError(f"text input {cid!r} is required")
                if value and not component.get("min_length", 0) <= len(value) <= component.get(
                    "max_length", 4000
                ):
                    raise ValueError(f"text input {cid!r}: length {len(value)} outside the min/max length")
                out.append({**base, "custom_id": cid, "value": value})
            elif kind in (3, 5, 6, 7, 8):
                cid = component["custom_id"]
                chosen = values.pop(cid, [])
                out.append(
                    {
                        **base,
                        "custom_id": cid,
                        "values": [chosen] if isinstance(chosen, str) else list(chosen),
                    }
                )
            elif kind == 10:
                out.append(base)
        return out

    # -- waiting ---------------------------------------------------------------------------------------------

    async def wait_for_message(
        self,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        channel: ChannelRef | None = None,
        since: int | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """The first bot message created or edited since the last driver action matching ``predicate``.

        ``since`` overrides the starting point with a value from ``mark()``. Messages still
        'thinking' (deferred) or deleted are skipped; ``data`` is live, so edits count.
        """
        start = self._mark if since is None else since
        channel_id = self._channel_for(channel).id if channel is not None else None

        def check() -> SentMessage | None:
            for sent in sorted(self.recorder.messages, key=lambda m: m.touched):
                if sent.touched <= start or sent.loading or sent.deleted:
                    continue
                if channel_id is not None and sent.channel_id != channel_id:
                    continue
                if predicate is None or predicate(sent):
                    return sent
            return None

        def describe() -> str:
            return f"timed out waiting for a bot message (since {start})\n" + self.recorder.summary()

        return await self.recorder.wait_until(check, timeout, describe)

    async def wait_for_response(
        self, interaction: InteractionHandle, timeout: float = 5.0
    ) -> InteractionReply:
        """The bot's callback to ``interaction``."""
        return await interaction.response(timeout)

    async def wait_for_request(
        self, method: str, path: str, *, since: int = 0, timeout: float = 5.0
    ) -> RequestRecord:
        """A recorded request matching method and route template / path / regex (like ``fail_next``)."""
        probe = Fault(method, path, 0, 0.0)

        def check() -> RequestRecord | None:
            return next(
                (r for r in self.recorder.requests[since:] if probe.matches(r.method, r.path, r.route)), None
            )

        return await self.recorder.wait_until(
            check, timeout, lambda: f"no {method} {path} request\n" + self.recorder.summary()
        )

    async def wait_for_commands(self, *names: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the bot synced commands with all ``names`` (any at all when none given)."""

        def check() -> list[dict[str, Any]] | None:
            commands = self.state.all_commands()
            synced = {c["name"] for c in commands}
            if (names and set(names) <= synced) or (not names and commands):
                return commands
            return None

        return await self.recorder.wait_until(
            check, timeout, lambda: f"commands {names} not synced; have {self.state.all_commands()}"
        )

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Wait until a client identified and got READY + GUILD_CREATE."""

        def check() -> bool:
            session = self.gateway.current
            return bool(session and session.connection and session.seq >= 2)

        await self.recorder.wait_until(
            check, timeout, lambda: "no client identified\n" + self.recorder.summary()
        )

    async def wait_for_resume(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until the client resumed ``count`` times in total."""
        await self.recorder.wait_until(
            lambda: self.gateway.resume_count >= count,
            timeout,
            lambda: f"only {self.gateway.resume_count} resumes; close codes {self.gateway.close_codes}",
        )

    async def wait_for_identify(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until the client identified ``count`` times in total."""
        await self.recorder.wait_until(
            lambda: self.gateway.identify_count >= count and self.gateway.current is not None,
            timeout,
            lambda: f"only {self.gateway.identify_count} identifies",
        )

    # -- fault injection -------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path: str,
        status: int = 429,
        retry_after: float = 0.3,
        *,
        times: int = 1,
        is_global: bool = False,
        after: bool = False,
    ) -> Fault:
        """Answer the next ``times`` matching requests with ``status``.

        ``path`` is a route template (``/channels/{channel_id}/messages``), an exact path, or a
        regex matched against the path. 429 comes with Retry-After, Via and Discord's JSON body.
        ``after=True``: the request takes effect first (the message is created), then the error is
        answered, so a client that retries may post twice unless Discord deduplicates its nonce.
        """
        fault = Fault(method, path, status, retry_after, is_global=is_global, times=times, after=after)
        self.rest.faults.append(fault)
        return fault

    def hold_next(self, method: str, path: str, *, arrive: bool = True, times: int = 1) -> Hold:
        """Keep the response to the next ``times`` matching requests until ``hold.release()``.

        ``arrive=True``: the request takes effect (a posted message exists) and only the answer waits;
        ``arrive=False``: it is held unhandled and dropped on release. ``path`` as in ``fail_next``.
        """
        hold = Hold(method, path, arrive=arrive, times=times)
        self.rest.holds.append(hold)
        return hold

    async def drop_gateway(self, *, resume: bool = True, code: int | None = None) -> None:
        """Break the gateway connection.

        ``resume=True``: abort the TCP connection (or close with ``code``); the client RESUMEs its
        session and gets the missed events. ``resume=False``: send INVALID_SESSION(false) so the
        client must IDENTIFY again.
        """
        if resume:
            await self.gateway.drop(code=code)
        else:
            await self.gateway.invalidate(resumable=False)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT (Discord does this before restarting a gateway node)."""
        await self.gateway.request_reconnect()
