"""The terminal chat: the same commands as Discord, over standard input and output.

It is the embedded default (no token needed) and the way tests and scripts drive PeerBot without
Discord. Lines come from any async iterator, so tests feed it a list and the CLI feeds it stdin.
Commands live in ``peerbot.console.commands``: each module registers its own, like a cog.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import TextIO

from peerbot.core.commands import INTRO
from peerbot.core.knowledge import Entry
from peerbot.core.permissions import Actor
from peerbot.core.services import Services
from peerbot.core.storage import DATABASE_TROUBLE

log = logging.getLogger(__name__)

QUIT_WORDS = {"/quit", "/exit", "quit", "exit"}
# The terminal has one server and one member: the person running PeerBot, who is also its editor.
LOCAL_GUILD_ID = 1
LOCAL_MEMBER_ID = 1

Handler = Callable[["ConsoleChat", str], Awaitable[None]]


class ConsoleChat:
    """Reads questions and slash commands line by line and writes the answers."""

    def __init__(self, services: Services, out: TextIO, *, prompt: str = "") -> None:
        from peerbot.console.commands import register_all

        self.services = services
        self.out = out
        self.prompt = prompt
        self.guild_id = LOCAL_GUILD_ID
        self.actor = Actor(LOCAL_MEMBER_ID, "you", local=True)
        self.last_suggestions: tuple[Entry, ...] = ()
        self._commands: dict[str, Handler] = {}
        self._lines: AsyncIterator[str] | None = None
        self._background: list[tuple[Callable[[], None], Callable[[], Awaitable[None]]]] = []
        register_all(self)

    def add_command(self, name: str, handler: Handler) -> None:
        if name in self._commands:
            raise ValueError(f"console command /{name} is registered twice")
        self._commands[name] = handler

    def add_background(self, start: Callable[[], None], stop: Callable[[], Awaitable[None]]) -> None:
        """Work that runs while the chat runs (event reminders): started by run(), stopped at its end."""
        self._background.append((start, stop))

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def read_line(self, prompt: str) -> str | None:
        """The next input line, for commands that ask follow-up questions; None at end of input."""
        self.out.write(prompt)
        self.out.flush()
        if self._lines is None:
            return None
        try:
            return (await anext(self._lines)).rstrip("\n")
        except StopAsyncIteration:
            return None

    def greet(self) -> None:
        entries = len(self.services.library.base)
        self.write(f"{INTRO}\n{entries} answers loaded. Type a question, /help for commands, /quit to leave.")

    async def handle(self, line: str) -> bool:
        """Answer one line; False when the member asked to quit."""
        text = line.strip()
        if text.lower() in QUIT_WORDS:
            self.write("Goodbye!")
            return False
        if text.isdigit() and self.last_suggestions:
            number = int(text)
            if 1 <= number <= len(self.last_suggestions):
                from peerbot.console.render import entry_text

                self.write(entry_text(self.last_suggestions[number - 1]))
                return True
        if text.startswith("/"):
            command, _, rest = text[1:].partition(" ")
            handler = self._commands.get(command.lower())
            if handler is None:
                self.write(f"Unknown command /{command[:40]}. Type /help to see the commands.")
            else:
                await handler(self, rest.strip())
        else:
            await self._commands["ask"](self, text)
        return True

    async def run(self, lines: AsyncIterable[str]) -> None:
        """Serve until /quit or the end of input."""
        self._lines = aiter(lines)
        self.greet()
        for start, _ in self._background:
            start()
        try:
            await self._serve()
        finally:
            for _, stop in self._background:
                await stop()

    async def _serve(self) -> None:
        assert self._lines is not None
        self._show_prompt()
        while True:
            try:
                line = await anext(self._lines)
            except StopAsyncIteration:
                return
            try:
                keep_going = await self.handle(line)
            except sqlite3.DatabaseError:  # damaged, locked or failing disk: say so, and keep serving
                log.exception("The database failed answering %r", line[:200])
                self.write(DATABASE_TROUBLE)
                keep_going = True
            except Exception:  # a bug in one answer must not end the member's session
                log.exception("Answering %r failed", line[:200])
                self.write("Sorry, something went wrong answering that. Please try again.")
                keep_going = True
            if not keep_going:
                return
            self._show_prompt()

    def _show_prompt(self) -> None:
        if self.prompt:
            self.out.write(self.prompt)
            self.out.flush()
