"""REST API under /api/v10: the routes PeerBot uses, answered the way Discord answers them.

A middleware records every request (method, path, route template, JSON or payload_json, files),
applies injected faults (429 with Retry-After, 5xx), checks the bot token, and turns unknown routes
into Discord's 404 JSON plus a warning and an entry in ``Recorder.unknown_routes``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

from .gateway import Gateway
from .records import Fault, Hold, RecordedFile, Recorder, RequestRecord, SentMessage
from .state import EPHEMERAL, LOADING, DiscordError, FakeChannel, FakeState, Interaction, iso_now

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
RECORD_KEY = web.RequestKey("record", RequestRecord)
JSON_KEY = web.RequestKey("json", object)
FILES_KEY = web.RequestKey("files", list)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Routes that do not take the bot token (Discord authenticates them by the token in the path).
_NO_AUTH = ("/gateway", "/gateway/bot", "/interactions/", "/webhooks/")
_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def _permission_string(value: Any) -> str | None:
    """A permission bit set as Discord returns it (a decimal string), or None."""
    return None if value is None else str(int(value))


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json" (no charset): discord.py only decodes bodies with that content type.
    body = json.dumps(data, separators=(",", ":")).encode()
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


def _no_content() -> web.Response:
    return web.Response(status=204)


def _form_error(field: str, code: str, message: str) -> DiscordError:
    errors: dict[str, Any] = {}
    node = errors
    parts = field.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = {"_errors": [{"code": code, "message": message}]}
    return DiscordError(400, "Invalid Form Body", 50035, errors)


def _int(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _form_error(what, "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.') from None


class RestApi:
    """Route handlers sharing the fake's state, recorder and gateway."""

    def __init__(
        self, state: FakeState, recorder: Recorder, gateway: Gateway, gateway_url: Callable[[], str]
    ):
        self.state = state
        self.recorder = recorder
        self.gateway = gateway
        self.gateway_url = gateway_url
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []

    # -- wiring ----------------------------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, template, handler); specific literal segments come before placeholders."""
        wh = "/webhooks/{application_id}/{token}"
        msg = "/channels/{channel_id}/messages/{message_id}"
        cmds = "/applications/{application_id}/commands"
        gcmds = "/applications/{application_id}/guilds/{guild_id}/commands"
        events = "/guilds/{guild_id}/scheduled-events"
        return [
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/users/@me", self.get_me),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", cmds, self.list_commands),
            ("PUT", cmds, self.put_commands),
            ("POST", cmds, self.post_command),
            ("GET", cmds + "/{command_id}", self.get_command),
            ("PATCH", cmds + "/{command_id}", self.patch_command),
            ("DELETE", cmds + "/{command_id}", self.delete_command),
            ("GET", gcmds + "/permissions", self.command_permissions),
            ("GET", gcmds, self.list_commands),
            ("PUT", gcmds, self.put_commands),
            ("POST", gcmds, self.post_command),
            ("GET", gcmds + "/{command_id}", self.get_command),
            ("PATCH", gcmds + "/{command_id}", self.patch_command),
            ("DELETE", gcmds + "/{command_id}", self.delete_command),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("GET", "/channels/{channel_id}/messages", self.list_messages),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", msg, self.get_message),
            ("PATCH", msg, self.edit_message),
            ("DELETE", msg, self.delete_message),
            ("PUT", msg + "/reactions/{emoji}/@me", self.add_reaction),
            ("DELETE", msg + "/reactions/{emoji}/@me", self.remove_reaction),
            ("DELETE", msg + "/reactions/{emoji}/{user_id}", self.remove_reaction),
            ("GET", msg + "/reactions/{emoji}", self.list_reactions),
            ("DELETE", msg + "/reactions", self.clear_reactions),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.interaction_callback),
            ("POST", wh, self.execute_webhook),
            ("GET", wh + "/messages/@original", self.get_webhook_message),
            ("PATCH", wh + "/messages/@original", self.edit_webhook_message),
            ("DELETE", wh + "/messages/@original", self.delete_webhook_message),
            ("GET", wh + "/messages/{message_id}", self.get_webhook_message),
            ("PATCH", wh + "/messages/{message_id}", self.edit_webhook_message),
            ("DELETE", wh + "/messages/{message_id}", self.delete_webhook_message),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self.get_guild_roles),
            ("GET", "/guilds/{guild_id}/members", self.list_members),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_member_role),
            ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.remove_member_role),
            ("GET", events, self.list_events),
            ("POST", events, self.create_event),
            ("GET", events + "/{event_id}", self.get_event),
            ("PATCH", events + "/{event_id}", self.edit_event),
            ("DELETE", events + "/{event_id}", self.delete_event),
        ]

    def install(self, app: web.Application) -> None:
        for method, template, handler in self.routes():
            app.router.add_route(method, API_PREFIX + template, handler)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.unknown_route)
        app.middlewares.append(self.middleware)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        route = self._template(request)
        payload, files = await self._read_body(request)
        record = RequestRecord(
            method=request.method,
            path=request.path[len(API_PREFIX) :] if request.path.startswith(API_PREFIX) else request.path,
            route=route,
            query=dict(request.query),
            json=payload,
            files=files,
            timestamp=time.time(),
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
        )
        request[RECORD_KEY] = record
        request[JSON_KEY] = payload
        request[FILES_KEY] = files
        self.recorder.requests.append(record)
        try:
            response = self._fault_response(record)
            if response is None:
                self._check_auth(request, record)
                hold = self._hold_for(record)
                if hold is not None and not hold.arrive:
                    await self._held(hold, record)  # dropped: as if it never reached Discord
                    response = _json({"message": "503: Service Unavailable", "code": 0}, 503)
                else:
                    response = await handler(request)
                    if hold is not None:
                        await self._held(hold, record)
                if response.status < 400:
                    response = self._fault_response(record, after=True) or response
        except DiscordError as exc:
            response = _json(exc.body(), exc.status)
        except web.HTTPException:
            raise
        except Exception as exc:
            log.exception("fake discord handler crashed on %s %s", request.method, request.path)
            self.recorder.protocol_errors.append(f"handler crash on {request.method} {record.path}: {exc!r}")
            response = _json({"message": "500: Internal Server Error", "code": 0}, 500)
        record.status = response.status
        if (
            isinstance(response, web.Response)
            and response.body is not None
            and response.content_type == "application/json"
        ):
            try:
                record.response = json.loads(response.body)  # type: ignore[arg-type]
            except ValueError:
                record.response = None
        record.responded_at = time.time()
        self.recorder.notify()
        return response

    def _template(self, request: web.Request) -> str | None:
        resource = request.match_info.route.resource
        if resource is None or request.match_info.http_exception is not None:
            return None
        canonical = resource.canonical
        if canonical.endswith("{tail}"):
            return None
        return canonical[len(API_PREFIX) :]

    async def _read_body(self, request: web.Request) -> tuple[Any, list[RecordedFile]]:
        if not request.can_read_body:
            return None, []
        if request.content_type == "multipart/form-data":
            payload: Any = None
            files: list[RecordedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                elif getattr(part, "filename", None):
                    data = await part.read(decode=False)
                    files.append(
                        RecordedFile(
                            part.name or "",
                            part.filename or "",
                            part.headers.get("Content-Type"),
                            bytes(data),
                        )
                    )
                else:
                    log.warning("multipart field %r ignored", part.name)
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode(errors="replace"), []

    def _hold_for(self, record: RequestRecord) -> Hold | None:
        for hold in self.holds:
            if hold.matches(record.method, record.path, record.route):
                hold.times -= 1
                return hold
        return None

    async def _held(self, hold: Hold, record: RequestRecord) -> None:
        log.info("holding the response to %s %s", record.method, record.path)
        hold.hits.append(record)
        hold.reached.set()
        await hold.released.wait()

    def _fault_response(self, record: RequestRecord, *, after: bool = False) -> web.Response | None:
        for fault in self.faults:
            if fault.after == after and fault.matches(record.method, record.path, record.route):
                fault.times -= 1
                fault.hits.append(record)
                record.injected_fault = True
                log.info(
                    "injecting %s for %s %s%s",
                    fault.status,
                    record.method,
                    record.path,
                    " after it took effect" if after else "",
                )
                if fault.status == 429:
                    body = {
                        "message": "You are being rate limited.",
                        "retry_after": fault.retry_after,
                        "global": fault.is_global,
                    }
                    headers = {
                        "Retry-After": str(fault.retry_after),
                        "Via": "1.1 google",
                        "X-RateLimit-Scope": "global" if fault.is_global else "user",
                    }
                    if fault.is_global:
                        headers["X-RateLimit-Global"] = "true"
                    return _json(body, 429, headers)
                try:
                    reason = HTTPStatus(fault.status).phrase
                except ValueError:
                    reason = "Error"
                return _json({"message": f"{fault.status}: {reason}", "code": 0}, fault.status)
        return None

    def _check_auth(self, request: web.Request, record: RequestRecord) -> None:
        if record.route is None or record.route.startswith(_NO_AUTH):
            return
        if request.headers.get("Authorization") != f"Bot {self.state.token}":
            log.warning("request %s %s with a wrong or missing bot token: 401", record.method, record.path)
            raise DiscordError(401, "401: Unauthorized", 0)

    async def unknown_route(self, request: web.Request) -> web.Response:
        record: RequestRecord = request[RECORD_KEY]
        entry = f"{request.method} {record.path}"
        log.warning("fake discord has no route for %s (answering 404)", entry)
        self.recorder.unknown_routes.append(entry)
        return _json({"message": "404: Not Found", "code": 0}, 404)

    # -- helpers ---------------------------------------------------------------------------------------------

    def _channel(self, request: web.Request) -> FakeChannel:
        channel = self.state.channels.get(_int(request.match_info["channel_id"], "channel_id"))
        if channel is None:
            raise DiscordError(404, "Unknown Channel", 10003)
        return channel

    def _message(self, request: web.Request) -> dict[str, Any]:
        channel = self._channel(request)
        message = self.state.messages[channel.id].get(_int(request.match_info["message_id"], "message_id"))
        if message is None:
            raise DiscordError(404, "Unknown Message", 10008)
        return message

    def _guild(self, request: web.Request) -> None:
        if request.match_info["guild_id"] != str(self.state.guild_id):
            raise DiscordError(404, "Unknown Guild", 10004)

    def _application(self, request: web.Request) -> None:
        if request.match_info["application_id"] != str(self.state.application_id):
            raise DiscordError(403, "Missing Access", 50001)

    def _sent(self, message_id: int) -> SentMessage | None:
        return next((m for m in reversed(self.recorder.messages) if m.id == message_id), None)

    def _attachments(self, body: dict[str, Any], files: list[RecordedFile]) -> list[dict[str, Any]]:
        descriptions = {}
        for item in body.get("attachments") or []:
            if isinstance(item, dict) and "id" in item:
                descriptions[str(item["id"])] = item.get("description")
        attachments = []
        for index, file in enumerate(files):
            attachment = self.state.attachment_payload(file.filename, file.data, file.content_type, index)
            match = re.fullmatch(r"files\[(\d+)\]", file.field)
            key = match.group(1) if match else str(index)
            if descriptions.get(key):
                attachment["description"] = descriptions[key]
            attachments.append(attachment)
        return attachments

    def _validate_message_body(self, body: dict[str, Any], files: list[RecordedFile]) -> None:
        content = body.get("content") or ""
        if len(content) > 2000:
            raise _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        for index, embed in enumerate(embeds):
            size = sum(len(str(embed.get(k) or "")) for k in ("title", "description"))
            size += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in embed.get("fields") or [])
            if (
                len(embed.get("description") or "") > 4096
                or len(embed.get("title") or "") > 256
                or size > 6000
            ):
                raise _form_error(
                    f"embeds.{index}", "BASE_TYPE_MAX_LENGTH", "Embed size exceeds maximum size of 6000"
                )
            if len(embed.get("fields") or []) > 25:
                raise _form_error(
                    f"embeds.{index}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
        empty = not content and not embeds and not files and not body.get("components")
        if empty and not body.get("sticker_ids") and not body.get("poll"):
            raise DiscordError(400, "Cannot send an empty message", 50006)

    async def _publish(self, message: dict[str, Any], event: str = "MESSAGE_CREATE") -> None:
        if int(message.get("flags") or 0) & EPHEMERAL:
            return  # Discord never sends ephemeral messages over the gateway.
        await self.gateway.dispatch(event, self.state.gateway_message(message))

    async def _create_bot_message(
        self,
        channel: FakeChannel,
        body: dict[str, Any],
        request: web.Request,
        *,
        source: str,
        interaction: Interaction | None = None,
        message_type: int = 0,
        extra_flags: int = 0,
        webhook_token: str | None = None,
    ) -> SentMessage:
        files: list[RecordedFile] = request[FILES_KEY]
        flags = (int(body.get("flags") or 0) | extra_flags) & ~LOADING | (extra_flags & LOADING)
        message = self.state.build_message(
            channel=channel,
            author=self.state.bot,
            content=body.get("content") or "",
            embeds=body.get("embeds") or ([body["embed"]] if body.get("embed") else []),
            components=body.get("components"),
            attachments=self._attachments(body, files),
            flags=flags,
            message_type=message_type,
            tts=bool(body.get("tts")),
            nonce=body.get("nonce"),
            message_reference=body.get("message_reference"),
            webhook_id=self.state.application_id if interaction is not None else None,
            interaction=interaction,
            sticker_ids=body.get("sticker_ids"),
            poll=body.get("poll"),
        )
        self.state.store_message(message)
        sent = SentMessage(
            data=message,
            source=source,
            allowed_mentions=body.get("allowed_mentions"),
            files=list(files),
            interaction_id=interaction.id if interaction else None,
            webhook_token=webhook_token,
            request=request[RECORD_KEY],
        )
        sent.touched = self.recorder.tick()
        self.recorder.messages.append(sent)
        log.info("bot sent %r", sent)
        await self._publish(message)
        return sent

    async def _apply_edit(
        self, message: dict[str, Any], body: dict[str, Any], request: web.Request
    ) -> dict[str, Any]:
        files: list[RecordedFile] = request[FILES_KEY]
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = body["embeds"] or []
        elif "embed" in body:
            message["embeds"] = [body["embed"]] if body["embed"] else []
        if "components" in body:
            message["components"] = self.state.assign_component_ids(body["components"])
        if "flags" in body and body["flags"] is not None:
            keep = int(message.get("flags") or 0) & EPHEMERAL
            message["flags"] = (int(body["flags"]) & ~(EPHEMERAL | LOADING)) | keep
        else:
            message["flags"] = int(message.get("flags") or 0) & ~LOADING
        if "attachments" in body:
            kept_ids = {str(a.get("id")) for a in body["attachments"] or [] if isinstance(a, dict)}
            message["attachments"] = [a for a in message.get("attachments", []) if a["id"] in kept_ids]
        if files:
            message.setdefault("attachments", []).extend(self._attachments(body, files))
        if "content" in body:
            mentioned, roles = self.state.mentions_in(message["content"])
            message["mentions"] = [u.payload() for u in mentioned]
            message["mention_roles"] = [str(r) for r in roles]
        message["edited_timestamp"] = iso_now()
        sent = self._sent(int(message["id"]))
        if sent is not None:
            sent.edits.append(body)
            sent.files.extend(files)
            if "allowed_mentions" in body:
                sent.allowed_mentions = body["allowed_mentions"]
            sent.request = request[RECORD_KEY]
            sent.touched = self.recorder.tick()
        log.info("bot edited message %s: %s", message["id"], body)
        await self._publish(message, "MESSAGE_UPDATE")
        return message

    async def _delete(self, message: dict[str, Any]) -> None:
        channel = self.state.channels[int(message["channel_id"])]
        self.state.messages[channel.id].pop(int(message["id"]), None)
        sent = self._sent(int(message["id"]))
        if sent is not None:
            sent.deleted = True
        if not int(message.get("flags") or 0) & EPHEMERAL:
            data: dict[str, Any] = {"id": message["id"], "channel_id": message["channel_id"]}
            if channel.guild_id:
                data["guild_id"] = str(channel.guild_id)
            await self.gateway.dispatch("MESSAGE_DELETE", data)

    # -- gateway, users, application -------------------------------------------------------------------------

    async def get_gateway(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url()})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url(), "shards": 1, "session_start_limit": limit})

    async def get_me(self, request: web.Request) -> web.Response:
        return _json({**self.state.bot.payload(), "verified": True, "mfa_enabled": False, "email": None})

    async def get_user(self, request: web.Request) -> web.Response:
        try:
            return _json(self.state.user(request.match_info["user_id"]).payload())
        except KeyError:
            raise DiscordError(404, "Unknown User", 10013) from None

    async def get_application(self, request: web.Request) -> web.Response:
        return _json(self.state.application_payload())

    async def create_dm(self, request: web.Request) -> web.Response:
        body = request[JSON_KEY] or {}
        try:
            user = self.state.user(str(body.get("recipient_id")))
        except KeyError:
            raise DiscordError(400, "Invalid Recipient(s)", 50033) from None
        return _json(self.state.dm_channel_for(user).payload(self.state))

    # -- application commands --------------------------------------------------------------------------------

    def _command_store(self, request: web.Request) -> tuple[dict[int, dict[str, Any]], int | None]:
        self._application(request)
        if "guild_id" in request.match_info:
            self._guild(request)
            guild_id = int(request.match_info["guild_id"])
            return self.state.guild_commands.setdefault(guild_id, {}), guild_id
        return self.state.global_commands, None

    def _validate_options(self, options: list[dict[str, Any]], where: str) -> None:
        if len(options) > 25:
            raise _form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        seen_optional = False
        names = set()
        for index, option in enumerate(options):
            name = option.get("name", "")
            if not _COMMAND_NAME.match(name) or name != name.lower():
                raise _form_error(
                    f"{where}.{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if name in names:
                raise _form_error(
                    where, "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique"
                )
            names.add(name)
            if not 1 <= len(option.get("description") or "") <= 100:
                raise _form_error(
                    f"{where}.{index}.description",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            if option.get("type") in (1, 2):
                self._validate_options(option.get("options") or [], f"{where}.{index}.options")
                continue
            if option.get("required"):
                if seen_optional:
                    raise _form_error(
                        f"{where}.{index}",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            if len(option.get("choices") or []) > 25:
                raise _form_error(
                    f"{where}.{index}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            if option.get("choices") and option.get("autocomplete"):
                raise _form_error(
                    f"{where}.{index}.autocomplete",
                    "AUTOCOMPLETE_AND_CHOICES",
                    "Autocomplete cannot be used with choices",
                )

    def _command_object(
        self, body: dict[str, Any], guild_id: int | None, existing: dict[str, Any] | None, index: int = 0
    ) -> dict[str, Any]:
        name = body.get("name") or ""
        type_ = int(body.get("type", 1))
        prefix = f"{index}." if index is not None else ""
        if type_ == 1 and (not _COMMAND_NAME.match(name) or name != name.lower()):
            raise _form_error(f"{prefix}name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if type_ == 1 and not 1 <= len(body.get("description") or "") <= 100:
            raise _form_error(
                f"{prefix}description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        self._validate_options(body.get("options") or [], f"{prefix}options")
        command: dict[str, Any] = {
            "id": existing["id"] if existing else self.state.snowflakes.next_str(),
            "application_id": str(self.state.application_id),
            "version": self.state.snowflakes.next_str(),
            "type": type_,
            "name": name,
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            # Discord keeps the bit set as a string, whichever way the client sent it.
            "default_member_permissions": _permission_string(body.get("default_member_permissions")),
            "dm_permission": body.get("dm_permission", True),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
            "nsfw": bool(body.get("nsfw", False)),
            "options": body.get("options") or [],
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
            command.pop("dm_permission")
        return command

    async def list_commands(self, request: web.Request) -> web.Response:
        store, _ = self._command_store(request)
        return _json(list(store.values()))

    async def put_commands(self, request: web.Request) -> web.Response:
        store, guild_id = self._command_store(request)
        body = request[JSON_KEY]
        if not isinstance(body, list):
            raise _form_error("_root", "BASE_TYPE_ARRAY", "Must be an array.")
        if len(body) > 100:
            raise _form_error("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        by_key = {(c["name"], c["type"]): c for c in store.values()}
        new: dict[int, dict[str, Any]] = {}
        keys = set()
        for index, item in enumerate(body):
            key = (item.get("name"), int(item.get("type", 1)))
            if key in keys:
                raise _form_error(
                    f"{index}.name",
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {key[0]}",
                )
            keys.add(key)
            command = self._command_object(item, guild_id, by_key.get(key), index)
            new[int(command["id"])] = command
        store.clear()
        store.update(new)
        log.info(
            "bot synced %d %s commands: %s",
            len(new),
            "guild" if guild_id else "global",
            [c["name"] for c in new.values()],
        )
        return _json(list(new.values()))

    async def post_command(self, request: web.Request) -> web.Response:
        store, guild_id = self._command_store(request)
        body = request[JSON_KEY] or {}
        existing = next(
            (
                c
                for c in store.values()
                if c["name"] == body.get("name") and c["type"] == int(body.get("type", 1))
            ),
            None,
        )
        command = self._command_object(body, guild_id, existing)
        store[int(command["id"])] = command
        return _json(command, 200 if existing else 201)

    def _find_command(self, request: web.Request) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        store, _ = self._command_store(request)
        command = store.get(_int(request.match_info["command_id"], "command_id"))
        if command is None:
            raise DiscordError(404, "Unknown application command", 10063)
        return store, command

    async def get_command(self, request: web.Request) -> web.Response:
        return _json(self._find_command(request)[1])

    async def patch_command(self, request: web.Request) -> web.Response:
        store, command = self._find_command(request)
        merged = {**command, **(request[JSON_KEY] or {})}
        updated = self._command_object(
            merged, int(command["guild_id"]) if "guild_id" in command else None, command
        )
        store[int(updated["id"])] = updated
        return _json(updated)

    async def delete_command(self, request: web.Request) -> web.Response:
        store, command = self._find_command(request)
        store.pop(int(command["id"]))
        return _no_content()

    async def command_permissions(self, request: web.Request) -> web.Response:
        self._guild(request)
        return _json([])

    # -- channels and messages -------------------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        return _json(self._channel(request).payload(self.state))

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return _no_content()

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        limit = max(1, min(100, int(request.query.get("limit", 50))))
        ordered = sorted(self.state.messages[channel.id].values(), key=lambda m: int(m["id"]))
        before, after, around = (request.query.get(k) for k in ("before", "after", "around"))
        if before:
            ordered = [m for m in ordered if int(m["id"]) < int(before)][-limit:]
        elif after:
            ordered = [m for m in ordered if int(m["id"]) > int(after)][:limit]
        elif around:
            ids = [int(m["id"]) for m in ordered]
            pivot = next((i for i, mid in enumerate(ids) if mid >= int(around)), len(ids))
            start = max(0, pivot - limit // 2)
            ordered = ordered[start : start + limit]
        else:
            ordered = ordered[-limit:]
        return _json([self.state.gateway_message(m) for m in reversed(ordered)])

    async def get_message(self, request: web.Request) -> web.Response:
        return _json(self._message(request))

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body = request[JSON_KEY] or {}
        self._validate_message_body(body, request[FILES_KEY])
        if channel.type == 1:
            recipient = self.state.users_by_id.get(channel.recipient_id or 0)
            if recipient is None or not recipient.accepts_dms:
                raise DiscordError(403, "Cannot send messages to this user", 50007)
        nonce = str(body["nonce"]) if body.get("nonce") is not None and body.get("enforce_nonce") else None
        if nonce is not None:
            earlier = self.state.message_for_nonce(channel.id, nonce)
            if earlier is not None:  # Discord returns the first message and creates none
                log.info("nonce %s seen in #%s: answering message %s", nonce, channel.name, earlier["id"])
                self.recorder.nonce_replays.append(request[RECORD_KEY])
                return _json(earlier)
        sent = await self._create_bot_message(
            channel, body, request, source="dm" if channel.type == 1 else "channel"
        )
        if nonce is not None:
            self.state.remember_nonce(channel.id, nonce, sent.id)
        return _json(sent.data)

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._message(request)
        if message["author"]["id"] != str(self.state.bot.id) and set(request[JSON_KEY] or {}) - {"flags"}:
            raise DiscordError(403, "Cannot edit a message authored by another user", 50005)
        return _json(await self._apply_edit(message, request[JSON_KEY] or {}, request))

    async def delete_message(self, request: web.Request) -> web.Response:
        await self._delete(self._message(request))
        return _no_content()

    # -- reactions -------------------------------------------------------------------------------------------

    def _emoji(self, raw: str) -> dict[str, Any]:
        if ":" in raw:
            name, _, emoji_id = raw.partition(":")
            return {"id": emoji_id, "name": name}
        return {"id": None, "name": raw}

    async def add_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request)
        emoji = self._emoji(request.match_info["emoji"])
        reactions = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["emoji"] == emoji), None)
        if entry is None:
            entry = {"emoji": emoji, "count": 0, "me": False, "users": []}
            reactions.append(entry)
        if str(self.state.bot.id) not in entry["users"]:
            entry["users"].append(str(self.state.bot.id))
            entry["count"] += 1
            entry["me"] = True
            data: dict[str, Any] = {
                "user_id": str(self.state.bot.id),
                "channel_id": message["channel_id"],
                "message_id": message["id"],
                "emoji": emoji,
                "type": 0,
                "burst": False,
            }
            channel = self.state.channels[int(message["channel_id"])]
            if channel.guild_id:
                data["guild_id"] = str(channel.guild_id)
                data["member"] = self.state.member_payload(self.state.bot)
            await self.gateway.dispatch("MESSAGE_REACTION_ADD", data)
        return _no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request)
        emoji = self._emoji(request.match_info["emoji"])
        user_id = request.match_info.get("user_id", str(self.state.bot.id))
        for entry in message.get("reactions", []):
            if entry["emoji"] == emoji and user_id in entry["users"]:
                entry["users"].remove(user_id)
                entry["count"] -= 1
                entry["me"] = str(self.state.bot.id) in entry["users"]
        message["reactions"] = [r for r in message.get("reactions", []) if r["count"] > 0]
        return _no_content()

    async def list_reactions(self, request: web.Request) -> web.Response:
        message = self._message(request)
        emoji = self._emoji(request.match_info["emoji"])
        entry = next((r for r in message.get("reactions", []) if r["emoji"] == emoji), None)
        users = [self.state.users_by_id[int(u)].payload() for u in (entry["users"] if entry else [])]
        return _json(users)

    async def clear_reactions(self, request: web.Request) -> web.Response:
        self._message(request)["reactions"] = []
        return _no_content()

    # -- interactions ----------------------------------------------------------------------------------------

    def _interaction(self, interaction_id: int | None, token: str) -> Interaction:
        interaction = self.state.interactions_by_token.get(token)
        if interaction is None or (interaction_id is not None and interaction.id != interaction_id):
            raise DiscordError(404, "Unknown interaction", 10062)
        return interaction

    async def interaction_callback(self, request: web.Request) -> web.Response:
        interaction = self._interaction(
            _int(request.match_info["interaction_id"], "interaction_id"), request.match_info["token"]
        )
        body = request[JSON_KEY] or {}
        if interaction.expired:
            interaction.refused += 1
            log.info("interaction %s expired unanswered: 404 Unknown interaction", interaction.id)
            raise DiscordError(404, "Unknown interaction", 10062)
        if interaction.responded:
            raise DiscordError(400, "Interaction has already been acknowledged.", 40060)
        type_ = int(body.get("type", 0))
        data = body.get("data") or {}
        channel = self.state.channels[interaction.channel_id]
        message: dict[str, Any] | None = None
        component_message = interaction.payload.get("message")
        if type_ == 4:
            self._validate_message_body(data, request[FILES_KEY])
            msg_type = 20 if interaction.type == 2 else 0
            sent = await self._create_bot_message(
                channel, data, request, source="interaction", interaction=interaction, message_type=msg_type
            )
            interaction.original_message_id = sent.id
            message = sent.data
        elif type_ == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            msg_type = 20 if interaction.type == 2 else 0
            sent = await self._create_bot_message(
                channel,
                {},
                request,
                source="interaction",
                interaction=interaction,
                message_type=msg_type,
                extra_flags=flags,
            )
            interaction.original_message_id = sent.id
            message = sent.data
        elif type_ in (6, 7):
            if interaction.type not in (3, 5) or not component_message:
                raise DiscordError(400, "Interaction callback type is not valid for this interaction", 50035)
            stored = self.state.find_message(int(component_message["id"])) or component_message
            interaction.original_message_id = int(stored["id"])
            if type_ == 7:
                message = await self._apply_edit(stored, data, request)
        elif type_ == 8:
            if interaction.type != 4:
                raise DiscordError(
                    400, "Autocomplete results are only valid for autocomplete interactions", 50035
                )
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise _form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            interaction.autocomplete_choices = choices
        elif type_ == 9:
            if interaction.type in (4, 5):
                raise DiscordError(400, "A modal cannot answer this interaction", 50035)
            if not data.get("custom_id") or not data.get("title") or not data.get("components"):
                raise _form_error(
                    "data", "BASE_TYPE_REQUIRED", "custom_id, title and components are required"
                )
            interaction.modal = data
        elif type_ != 1:
            log.warning("interaction callback type %s recorded but not modelled", type_)
        interaction.answered_at = time.monotonic()
        interaction.callbacks.append(
            {"type": type_, "data": data, "files": request[FILES_KEY], "request": request[RECORD_KEY]}
        )
        log.info("bot answered interaction %s with callback type %s", interaction.id, type_)
        if type_ == 1 or request.query.get("with_response") not in ("1", "true", "True"):
            return _no_content()
        reply: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": type_ == 5,
                "response_message_ephemeral": bool(message and int(message.get("flags") or 0) & EPHEMERAL),
            }
        }
        if message is not None:
            reply["interaction"]["response_message_id"] = message["id"]
            reply["resource"] = {"type": type_, "message": message}
        return _json(reply)

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        if request.match_info["application_id"] != str(self.state.application_id):
            raise DiscordError(404, "Unknown Webhook", 10015)
        interaction = self.state.interactions_by_token.get(request.match_info["token"])
        if interaction is None or not interaction.responded:
            raise DiscordError(404, "Unknown Webhook", 10015)
        return interaction

    def _webhook_message(self, request: web.Request, interaction: Interaction) -> dict[str, Any]:
        raw = request.match_info.get("message_id")
        message_id = interaction.original_message_id if raw is None else _int(raw, "message_id")
        allowed = {interaction.original_message_id, *interaction.followup_ids}
        message = self.state.find_message(message_id) if message_id in allowed else None
        if message is None:
            raise DiscordError(404, "Unknown Message", 10008)
        return message

    async def execute_webhook(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        body = request[JSON_KEY] or {}
        self._validate_message_body(body, request[FILES_KEY])
        original = self.state.find_message(interaction.original_message_id or 0)
        if original is not None and int(original.get("flags") or 0) & LOADING:
            # The first follow-up after a deferral replaces the "thinking" message.
            body = {k: v for k, v in body.items() if k != "flags"}
            message = await self._apply_edit(original, body, request)
            sent = self._sent(int(message["id"]))
            if sent is not None:
                sent.allowed_mentions = body.get("allowed_mentions", sent.allowed_mentions)
        else:
            channel = self.state.channels[interaction.channel_id]
            sent = await self._create_bot_message(
                channel,
                body,
                request,
                source="followup",
                interaction=interaction,
                webhook_token=interaction.token,
            )
            interaction.followup_ids.append(sent.id)
            message = sent.data
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(message)
        return _no_content()

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        return _json(self._webhook_message(request, interaction))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        message = self._webhook_message(request, interaction)
        return _json(await self._apply_edit(message, request[JSON_KEY] or {}, request))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        await self._delete(self._webhook_message(request, interaction))
        return _no_content()

    # -- guild, members --------------------------------------------------------------------------------------

    async def get_guild(self, request: web.Request) -> web.Response:
        self._guild(request)
        data = self.state.guild_payload()
        data["approximate_member_count"] = len(self.state.members)
        return _json(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        self._guild(request)
        return _json([c.payload(self.state) for c in self.state.channels.values() if c.guild_id])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        self._guild(request)
        return _json([r.payload() for r in self.state.roles.values()])

    def _member(self, request: web.Request):
        self._guild(request)
        try:
            user = self.state.user(request.match_info["user_id"])
        except KeyError:
            raise DiscordError(404, "Unknown User", 10013) from None
        if not user.is_member:
            raise DiscordError(404, "Unknown Member", 10007)
        return user

    async def list_members(self, request: web.Request) -> web.Response:
        self._guild(request)
        limit = int(request.query.get("limit", 1))
        after = int(request.query.get("after", 0))
        members = sorted((m for m in self.state.members if m.id > after), key=lambda m: m.id)[:limit]
        return _json([self.state.member_payload(m) for m in members])

    async def get_member(self, request: web.Request) -> web.Response:
        return _json(self.state.member_payload(self._member(request)))

    async def _member_role(self, request: web.Request, add: bool) -> web.Response:
        user = self._member(request)
        role = self.state.role_by_id(_int(request.match_info["role_id"], "role_id"))
        if role is None:
            raise DiscordError(404, "Unknown Role", 10011)
        if add and role.id not in user.roles:
            user.roles.append(role.id)
        elif not add and role.id in user.roles:
            user.roles.remove(role.id)
        data = self.state.member_payload(user)
        data["guild_id"] = str(self.state.guild_id)
        await self.gateway.dispatch("GUILD_MEMBER_UPDATE", data)
        return _no_content()

    async def add_member_role(self, request: web.Request) -> web.Response:
        return await self._member_role(request, True)

    async def remove_member_role(self, request: web.Request) -> web.Response:
        return await self._member_role(request, False)

    # -- scheduled events ------------------------------------------------------------------------------------

    def _event(self, request: web.Request) -> dict[str, Any]:
        self._guild(request)
        event = self.state.scheduled_events.get(_int(request.match_info["event_id"], "event_id"))
        if event is None:
            raise DiscordError(404, "Unknown Guild Scheduled Event", 10070)
        return event

    def _validate_event(self, event: dict[str, Any], *, creating: bool) -> None:
        if not 1 <= len(event.get("name") or "") <= 100:
            raise _form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if len(event.get("description") or "") > 1000:
            raise _form_error("description", "BASE_TYPE_MAX_LENGTH", "Must be 1000 or fewer in length.")
        try:
            start = datetime.fromisoformat(str(event["scheduled_start_time"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            raise _form_error(
                "scheduled_start_time", "DATE_TIME_TYPE_PARSE", "Could not parse the start time."
            ) from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        if creating and start < datetime.now(UTC):
            raise _form_error(
                "scheduled_start_time",
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                "Cannot schedule event in the past.",
            )
        end_raw = event.get("scheduled_end_time")
        if end_raw:
            end = datetime.fromisoformat(str(end_raw).replace("Z", "+00:00"))
            if end.tzinfo is None:
                end = end.replace(tzinfo=UTC)
            if end < start:
                raise _form_error(
                    "scheduled_end_time",
                    "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                    "End time must be after start.",
                )
        if int(event.get("entity_type", 0)) == 3:
            if not (event.get("entity_metadata") or {}).get("location"):
                raise _form_error("entity_metadata.location", "BASE_TYPE_REQUIRED", "This field is required")
            if not end_raw:
                raise _form_error("scheduled_end_time", "BASE_TYPE_REQUIRED", "This field is required")
        elif not event.get("channel_id"):
            raise _form_error("channel_id", "BASE_TYPE_REQUIRED", "This field is required")

    async def list_events(self, request: web.Request) -> web.Response:
        self._guild(request)
        return _json(list(self.state.scheduled_events.values()))

    async def create_event(self, request: web.Request) -> web.Response:
        self._guild(request)
        body = request[JSON_KEY] or {}
        event: dict[str, Any] = {
            "id": self.state.snowflakes.next_str(),
            "guild_id": str(self.state.guild_id),
            "channel_id": body.get("channel_id"),
            "creator_id": str(self.state.bot.id),
            "creator": self.state.bot.payload(),
            "name": body.get("name"),
            "description": body.get("description"),
            "scheduled_start_time": body.get("scheduled_start_time"),
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": body.get("privacy_level", 2),
            "status": 1,
            "entity_type": body.get("entity_type"),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
            "recurrence_rule": body.get("recurrence_rule"),
        }
        self._validate_event(event, creating=True)
        self.state.scheduled_events[int(event["id"])] = event
        log.info("bot created scheduled event %s: %s", event["id"], event["name"])
        await self.gateway.dispatch("GUILD_SCHEDULED_EVENT_CREATE", event)
        return _json(event)

    async def get_event(self, request: web.Request) -> web.Response:
        return _json(self._event(request))

    async def edit_event(self, request: web.Request) -> web.Response:
        event = self._event(request)
        body = request[JSON_KEY] or {}
        allowed = {
            "channel_id", "entity_metadata", "name", "privacy_level", "scheduled_start_time",
            "scheduled_end_time", "description", "entity_type", "status", "image", "recurrence_rule",
        }  # fmt: skip
        updated = {**event, **{k: v for k, v in body.items() if k in allowed}}
        self._validate_event(updated, creating=False)
        event.update(updated)
        await self.gateway.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", event)
        return _json(event)

    async def delete_event(self, request: web.Request) -> web.Response:
        event = self._event(request)
        self.state.scheduled_events.pop(int(event["id"]))
        await self.gateway.dispatch("GUILD_SCHEDULED_EVENT_DELETE", event)
        return _no_content()
