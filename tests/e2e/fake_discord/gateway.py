"""Gateway websocket: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME and dispatches.

Every dispatch gets a sequence number and is kept in the session's log, so a client that lost its
connection can RESUME and get the events it missed, exactly like Discord. Intents are honoured: a
client without GUILD_MESSAGES gets no guild MESSAGE_CREATE, one without MESSAGE_CONTENT gets empty
content for messages that do not mention it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .records import Recorder
from .state import FakeState

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

# Opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

# Intents.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
MESSAGE_CONTENT = 1 << 15
GUILD_SCHEDULED_EVENTS = 1 << 16
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# Close codes.
AUTHENTICATION_FAILED = 4004
INVALID_API_VERSION = 4012
DISALLOWED_INTENTS = 4014


def _required_intent(event: str, data: dict[str, Any]) -> int | None:
    """The intent a client needs to receive ``event`` (None: always sent)."""
    in_guild = bool(data.get("guild_id"))
    if event.startswith("MESSAGE_REACTION"):
        return GUILD_MESSAGE_REACTIONS if in_guild else DIRECT_MESSAGE_REACTIONS
    if event.startswith("MESSAGE_"):
        return GUILD_MESSAGES if in_guild else DIRECT_MESSAGES
    if event in ("GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE", "GUILD_MEMBER_UPDATE"):
        return GUILD_MEMBERS
    if event.startswith("GUILD_SCHEDULED_EVENT"):
        return GUILD_SCHEDULED_EVENTS
    if event.startswith(("GUILD_", "CHANNEL_", "THREAD_")) and event != "GUILD_MEMBERS_CHUNK":
        return GUILDS
    if event == "PRESENCE_UPDATE":
        return GUILD_PRESENCES
    return None


@dataclass
class Session:
    """A gateway session: survives a dropped connection until the client resumes it."""

    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    log: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    connection: Connection | None = None
    invalid: bool = False


class Connection:
    """One websocket; serialises sends so the zlib stream stays in order."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, compress: bool) -> None:
        self.ws = ws
        self.request = request
        self.compressor = zlib.compressobj() if compress else None
        self.lock = asyncio.Lock()
        self.session: Session | None = None

    @property
    def open(self) -> bool:
        return not self.ws.closed

    async def send(self, payload: dict[str, Any]) -> bool:
        """Send one gateway payload; False when the socket is already gone."""
        async with self.lock:
            return await self.send_locked(payload)

    async def send_locked(self, payload: dict[str, Any]) -> bool:
        if self.ws.closed:
            return False
        text = json.dumps(payload, separators=(",", ":"))
        try:
            if self.compressor is not None:
                data = self.compressor.compress(text.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway send failed (%s): connection is gone", exc)
            return False
        return True

    def abort(self) -> None:
        """Drop the TCP connection without a close frame, like a network failure."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class Gateway:
    """The websocket endpoint plus the sessions it serves."""

    def __init__(
        self,
        state: FakeState,
        recorder: Recorder,
        *,
        url: Callable[[], str],
        heartbeat_interval: int,
        privileged_intents: int,
    ) -> None:
        self.state = state
        self.recorder = recorder
        self.url = url
        self.heartbeat_interval = heartbeat_interval
        self.privileged_intents = privileged_intents
        self.sessions: dict[str, Session] = {}
        self.current: Session | None = None
        self.connections: list[Connection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.close_codes: list[int] = []

    # -- websocket handler -----------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        problem = self._check_query(request)
        if problem:
            self.recorder.protocol_errors.append(problem)
            self.recorder.notify()
            log.error("fake gateway refuses the connection: %s", problem)
            await ws.close(code=INVALID_API_VERSION, message=problem.encode()[:120])
            return ws
        conn = Connection(ws, request, compress=request.query.get("compress") == "zlib-stream")
        self.connections.append(conn)
        log.info("gateway connection opened (%s)", request.query_string)
        try:
            await conn.send(
                {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval}, "s": None, "t": None}
            )
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._received(conn, json.loads(msg.data))
                elif msg.type == WSMsgType.BINARY:
                    problem = "client sent a binary gateway frame; the fake only speaks encoding=json"
                    self.recorder.protocol_errors.append(problem)
                    log.error(problem)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            if ws.close_code is not None:
                self.close_codes.append(ws.close_code)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            if conn in self.connections:
                self.connections.remove(conn)
            log.info("gateway connection closed (code %s)", ws.close_code)
            self.recorder.notify()
        return ws

    def _check_query(self, request: web.Request) -> str | None:
        version = request.query.get("v")
        encoding = request.query.get("encoding", "json")
        compress = request.query.get("compress")
        if version not in (None, "10"):
            return f"unsupported gateway version v={version!r} (the fake speaks v10)"
        if encoding != "json":
            return f"unsupported gateway encoding {encoding!r} (the fake speaks json only)"
        if compress not in (None, "zlib-stream"):
            return (
                f"unsupported gateway compression {compress!r}: the fake speaks zlib-stream or none "
                "(uninstall 'zstandard' from the test environment)"
            )
        return None

    async def _received(self, conn: Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op != HEARTBEAT:
            redacted = dict(payload)
            if isinstance(data, dict) and "token" in data:
                redacted["d"] = {**data, "token": "<redacted>"}
            self.recorder.gateway_received.append(redacted)
            self.recorder.notify()
        if op == HEARTBEAT:
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == REQUEST_MEMBERS:
            await self._request_members(conn, data or {})
        elif op in (PRESENCE, VOICE_STATE):
            log.debug("gateway op %s recorded: %s", op, data)
        else:
            log.warning("fake gateway got unknown op %s: %s", op, payload)
            self.recorder.protocol_errors.append(f"unknown gateway op {op}")

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        if data.get("token") != self.state.token:
            log.warning("gateway IDENTIFY with a wrong token: closing with 4004")
            await conn.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        refused = intents & PRIVILEGED_INTENTS & ~self.privileged_intents
        if refused:
            log.warning("gateway IDENTIFY asks for privileged intents %s that are not enabled: 4014", refused)
            await conn.ws.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        if self.current is not None:
            self.current.invalid = True
        session = Session(id=secrets.token_hex(16), intents=intents, shard=data.get("shard"))
        self.sessions[session.id] = session
        self.current = session
        session.connection = conn
        conn.session = session
        self.identify_count += 1
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self.state.bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(self.state.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.url(),
            "application": {"id": str(self.state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        log.info("gateway IDENTIFY accepted: session %s, intents %s", session.id, intents)
        await self._dispatch_to(session, "READY", ready)
        await self._dispatch_to(session, "GUILD_CREATE", self.state.guild_create_payload())
        self.recorder.notify()

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.invalid or data.get("token") != self.state.token:
            log.info("gateway RESUME refused (unknown or invalid session): INVALID_SESSION")
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        since = int(data.get("seq") or 0)
        old = session.connection
        if old is not None and old is not conn:
            await old.ws.close(code=4000)
        async with conn.lock:
            # No await between switching the connection and taking the snapshot: every event is
            # either in the snapshot or sent by its own dispatch to the new connection.
            session.connection = conn
            conn.session = session
            missed = [(s, t, d) for (s, t, d) in session.log if s > since]
            for seq, event, payload in missed:
                await conn.send_locked({"op": DISPATCH, "t": event, "s": seq, "d": payload})
        self.resume_count += 1
        log.info(
            "gateway RESUME of session %s from seq %s: replayed %d events", session.id, since, len(missed)
        )
        await self._dispatch_to(session, "RESUMED", {"_trace": ["fake-discord"]})
        self.recorder.notify()

    async def _request_members(self, conn: Connection, data: dict[str, Any]) -> None:
        members = self.state.members
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {str(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if str(m.id) in wanted]
        query = data.get("query")
        if query:
            members = [m for m in members if m.username.lower().startswith(str(query).lower())]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(self.state.guild_id),
            "members": [self.state.member_payload(m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        if conn.session is not None:
            await self._dispatch_to(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- dispatching -----------------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> bool:
        """Send an event to the current session (kept for RESUME if the socket is down).

        Returns False when the client's intents mean it would not receive it.
        """
        session = self.current
        if session is None or session.invalid:
            log.warning("dispatch of %s with no identified gateway session: dropped", event)
            return False
        return await self._dispatch_to(session, event, data)

    async def _dispatch_to(self, session: Session, event: str, data: dict[str, Any]) -> bool:
        needed = _required_intent(event, data)
        if needed is not None and not session.intents & needed:
            log.debug("not dispatching %s: client lacks intent %s", event, needed)
            return False
        data = self._apply_content_intent(session, event, data)
        session.seq += 1
        seq = session.seq
        session.log.append((seq, event, data))
        conn = session.connection
        if conn is not None:
            await conn.send({"op": DISPATCH, "t": event, "s": seq, "d": data})
        else:
            log.debug("%s (seq %s) kept for RESUME: no open connection", event, seq)
        return True

    def _apply_content_intent(self, session: Session, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Blank message content like Discord does for clients without MESSAGE_CONTENT."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or session.intents & MESSAGE_CONTENT:
            return data
        if not data.get("guild_id"):
            return data
        bot_id = str(self.state.bot.id)
        author_id = (data.get("author") or {}).get("id")
        mentioned = any(str(u.get("id")) == bot_id for u in data.get("mentions") or [])
        if author_id == bot_id or mentioned:
            return data
        blanked = dict(data)
        blanked.update(content="", embeds=[], attachments=[], components=[])
        blanked.pop("poll", None)
        return blanked

    # -- fault injection -------------------------------------------------------------------------------------

    async def drop(self, *, code: int | None = None) -> None:
        """Kill the current connection; the session stays resumable."""
        session = self.current
        conn = session.connection if session else None
        if conn is None:
            raise RuntimeError("drop_gateway: no open gateway connection")
        session.connection = None  # type: ignore[union-attr]
        if code is None:
            log.info("dropping the gateway connection (TCP abort)")
            conn.abort()
        else:
            log.info("dropping the gateway connection (close code %s)", code)
            await conn.ws.close(code=code)

    async def invalidate(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION; with ``resumable=False`` the client must IDENTIFY again."""
        session = self.current
        if session is None or session.connection is None:
            raise RuntimeError("invalidate_session: no open gateway connection")
        if not resumable:
            session.invalid = True
        await session.connection.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; the client closes and resumes."""
        session = self.current
        if session is None or session.connection is None:
            raise RuntimeError("request_reconnect: no open gateway connection")
        await session.connection.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close(code=1001, message=b"fake discord stopping")
