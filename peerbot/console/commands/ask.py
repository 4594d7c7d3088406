"""/ask (and plain lines), /topics and /help in the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peerbot.console.render import ask_text, topics_text
from peerbot.core.commands import help_lines
from peerbot.core.qa import UnknownConsortium

if TYPE_CHECKING:
    from peerbot.console.chat import ConsoleChat


async def ask(chat: ConsoleChat, question: str) -> None:
    result = await chat.services.questions.ask(question)
    chat.last_suggestions = result.suggestions
    chat.write(ask_text(result))


async def topics(chat: ConsoleChat, consortium: str) -> None:
    try:
        chat.write(topics_text(chat.services.questions.topics(consortium or None)))
    except UnknownConsortium as exc:
        chat.write(str(exc))


async def show_help(chat: ConsoleChat, _: str) -> None:
    chat.write("Commands:\n" + "\n".join(f"  {line}" for line in help_lines()))
    chat.write("  A line without a command is a question. /quit leaves.")


def register(chat: ConsoleChat) -> None:
    chat.add_command("ask", ask)
    chat.add_command("topics", topics)
    chat.add_command("help", show_help)
