"""The terminal chat: the same commands as Discord, over standard input and output.

It is the embedded default (no token needed) and the way tests and scripts drive PeerBot without
Discord. Lines come from any async iterator, so tests feed it a list and the CLI feeds it stdin.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable
from typing import TextIO

from peerbot.console.render import ask_text, entry_text, topics_text
from peerbot.core.commands import INTRO, help_lines
from peerbot.core.knowledge import Entry
from peerbot.core.qa import UnknownConsortium
from peerbot.core.services import Services

log = logging.getLogger(__name__)

QUIT_WORDS = {"/quit", "/exit", "quit", "exit"}


class ConsoleChat:
    """Reads questions and slash commands line by line and writes the answers."""

    def __init__(self, services: Services, out: TextIO, *, prompt: str = "") -> None:
        self.services = services
        self.out = out
        self.prompt = prompt
        self._last_suggestions: tuple[Entry, ...] = ()

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def greet(self) -> None:
        entries = len(self.services.library.base)
        self.write(f"{INTRO}\n{entries} answers loaded. Type a question, /help for commands, /quit to leave.")

    async def handle(self, line: str) -> bool:
        """Answer one line; False when the member asked to quit."""
        text = line.strip()
        if text.lower() in QUIT_WORDS:
            self.write("Goodbye!")
            return False
        if text.isdigit() and self._last_suggestions:
            number = int(text)
            if 1 <= number <= len(self._last_suggestions):
                self.write(entry_text(self._last_suggestions[number - 1]))
                return True
        if text.startswith("/"):
            command, _, rest = text[1:].partition(" ")
            await self._command(command.lower(), rest.strip())
        else:
            await self._ask(text)
        return True

    async def _command(self, command: str, rest: str) -> None:
        if command == "ask":
            await self._ask(rest)
        elif command == "topics":
            try:
                self.write(topics_text(self.services.questions.topics(rest or None)))
            except UnknownConsortium as exc:
                self.write(str(exc))
        elif command == "help":
            self.write("Commands:\n" + "\n".join(f"  {line}" for line in help_lines()))
            self.write("  A line without a command is a question. /quit leaves.")
        else:
            self.write(f"Unknown command /{command[:40]}. Type /help to see the commands.")

    async def _ask(self, question: str) -> None:
        result = await self.services.questions.ask(question)
        self._last_suggestions = result.suggestions
        self.write(ask_text(result))

    async def run(self, lines: AsyncIterable[str]) -> None:
        """Serve until /quit or the end of input."""
        self.greet()
        self._show_prompt()
        async for line in lines:
            try:
                keep_going = await self.handle(line)
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
