# ruff: noqa: ASYNC109 - waits take one explicit deadline shared by every re-check.
"""What the bot sent to the fake: raw requests, the messages they produced, and a change signal.

Tests assert on these records and wait on them; ``Recorder.wait_until`` wakes on every change
instead of polling with sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .state import EPHEMERAL, LOADING

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class RecordedFile:
    """One uploaded file of a multipart request."""

    field: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class RequestRecord:
    """One HTTP request the bot made, whatever the answer was."""

    method: str
    path: str
    route: str | None
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    timestamp: float
    headers: dict[str, str]
    status: int | None = None
    response: Any = None
    responded_at: float | None = None
    injected_fault: bool = False

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


@dataclass
class SentMessage:
    """A message the bot created (channel message, interaction response or follow-up).

    ``data`` is the live message object: edits are applied to it, the bodies of the edits are kept
    in ``edits``.
    """

    data: dict[str, Any]
    source: str
    allowed_mentions: dict[str, Any] | None = None
    files: list[RecordedFile] = field(default_factory=list)
    interaction_id: int | None = None
    webhook_token: str | None = None
    request: RequestRecord | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    touched: int = 0

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def channel_id(self) -> int:
        return int(self.data["channel_id"])

    @property
    def content(self) -> str:
        return self.data.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.data.get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.data.get("components") or []

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.data.get("attachments") or []

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def returned(self) -> bool:
        """True once the REST response carrying this message was handed back to the bot."""
        return self.request is None or self.request.responded_at is not None

    def text(self) -> str:
        """Content plus embed titles, descriptions and fields: handy for ``in`` assertions."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for embed_field in embed.get("fields") or []:
                parts += [embed_field.get("name") or "", embed_field.get("value") or ""]
            footer = embed.get("footer") or {}
            parts.append(footer.get("text") or "")
        return "\n".join(p for p in parts if p)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]

    def __repr__(self) -> str:
        flags = " ephemeral" if self.ephemeral else ""
        return f"<SentMessage {self.source}{flags} channel={self.channel_id} {self.text()[:80]!r}>"


@dataclass
class Fault:
    """A one-shot (or ``times``-shot) injected error for matching requests.

    ``after``: the request takes effect first (Discord created the message) and only then is the error
    answered, as when a 5xx comes from a proxy after the backend did the work.
    """

    method: str
    pattern: str
    status: int
    retry_after: float
    is_global: bool = False
    times: int = 1
    hits: list[RequestRecord] = field(default_factory=list)
    after: bool = False

    def matches(self, method: str, path: str, route: str | None) -> bool:
        if self.times <= 0 or (self.method != "*" and self.method.upper() != method.upper()):
            return False
        if route is not None and self.pattern == route:
            return True
        if self.pattern == path:
            return True
        try:
            return re.fullmatch(self.pattern, path) is not None
        except re.error:
            return False


@dataclass
class Hold:
    """Keeps the response to the next ``times`` matching requests until :meth:`release`.

    With ``arrive`` the request is handled first (the message exists, the bot just never hears back);
    without it the request is held before it is handled and dropped on release, as if it never reached
    Discord. Either way a test can kill the bot in exactly that window.
    """

    method: str
    pattern: str
    arrive: bool = True
    times: int = 1
    hits: list[RequestRecord] = field(default_factory=list)
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    matches = Fault.matches

    def release(self) -> None:
        self.released.set()

    async def wait_reached(self, timeout: float = 10.0) -> RequestRecord:
        await asyncio.wait_for(self.reached.wait(), timeout)
        return self.hits[-1]


def walk_components(components: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Every component, depth first, including rows, labels, sections and their children."""
    found: list[dict[str, Any]] = []
    for component in components or []:
        found.append(component)
        found += walk_components(component.get("components"))
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                found += walk_components([component[key]])
    return found


class Recorder:
    """All records plus a change signal for waiting."""

    def __init__(self) -> None:
        self.requests: list[RequestRecord] = []
        self.messages: list[SentMessage] = []
        self.unknown_routes: list[str] = []
        self.protocol_errors: list[str] = []
        self.nonce_replays: list[RequestRecord] = []  # sends answered with the message of their nonce
        self.gateway_received: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.clock = 0

    def tick(self) -> int:
        """Advance the change clock: messages remember when they were created or last edited."""
        self.clock += 1
        return self.clock

    def notify(self) -> None:
        """Wake every waiter; they re-check their condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(
        self, check: Callable[[], T | None], timeout: float, describe: Callable[[], str]
    ) -> T:
        """Return the first truthy ``check()`` result, re-checking after each change."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(describe())
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue

    def summary(self, last: int = 15) -> str:
        """Human readable tail of what the bot did, for timeout messages."""
        lines = [f"  recorded {len(self.requests)} requests, {len(self.messages)} bot messages"]
        lines += [f"  request: {r.method} {r.path} -> {r.status}" for r in self.requests[-last:]]
        lines += [f"  message: {m!r}" for m in self.messages[-last:]]
        if self.unknown_routes:
            lines.append(f"  unknown routes: {self.unknown_routes}")
        if self.protocol_errors:
            lines.append(f"  protocol errors: {self.protocol_errors}")
        return "\n".join(lines)
