"""Driving the terminal chat in tests: feed it lines, read what it wrote."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

from peerbot.console.chat import ConsoleChat
from peerbot.core.permissions import Actor
from peerbot.core.services import Services


async def lines(*items: str, pause: float = 0.0) -> AsyncIterator[str]:
    """The lines a member types; ``pause`` keeps the input open a while (for due announcements)."""
    for item in items:
        yield item + "\n"
    if pause:
        await asyncio.sleep(pause)


async def converse(services: Services, *items: str, actor: Actor | None = None, pause: float = 0.0) -> str:
    """Run a whole conversation and return everything the chat printed."""
    out = io.StringIO()
    chat = ConsoleChat(services, out)
    if actor is not None:
        chat.actor = actor
    await chat.run(lines(*items, pause=pause))
    return out.getvalue()
