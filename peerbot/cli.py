"""The ``peerbot`` command: terminal chat, Discord, scripted questions and knowledge checks."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TextIO

from peerbot import __version__
from peerbot.config import ConfigError, Settings
from peerbot.core.knowledge_loader import KnowledgeError, read_directory
from peerbot.core.library import KnowledgeLibrary
from peerbot.core.qa import QuestionService
from peerbot.core.storage import DatabaseError

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peerbot",
        description="PeerBot: answers about the OECD PLP lessons on the Social and Solidarity Economy. "
        "With no command: the terminal chat, or Discord when DISCORD_TOKEN is set.",
    )
    parser.add_argument("--version", action="version", version=f"peerbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("console", help="chat in the terminal (no Discord needed)")
    commands.add_parser("run", help="connect to Discord with DISCORD_TOKEN")
    ask = commands.add_parser("ask", help="answer one question, or many as JSON lines from stdin")
    ask.add_argument("question", nargs="*", help="the question (omit with --json)")
    ask.add_argument("--json", action="store_true", help="read questions one per line, write JSON lines")
    kb = commands.add_parser("kb", help="knowledge base tools")
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    validate = kb_commands.add_parser("validate", help="check the YAML files and list every problem")
    validate.add_argument("directory", nargs="?", type=Path, help="defaults to the configured knowledge")
    return parser


def _setup_logging(level: str, *, quiet: bool) -> None:
    # In the terminal chat, logs would interleave with the conversation: only warnings reach stderr.
    logging.basicConfig(
        level=logging.WARNING if quiet else getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _fail(message: str, code: int = 1) -> int:
    print(f"peerbot: {message}", file=sys.stderr)
    return code


async def _stdin_lines(stream: TextIO) -> AsyncIterator[str]:
    while True:
        line = await asyncio.to_thread(stream.readline)
        if not line:
            return
        yield line


async def _console(settings: Settings) -> int:
    from peerbot.console.chat import ConsoleChat
    from peerbot.core.services import Services
    from peerbot.core.storage.lock import DataDirLock

    # The chat delivers event reminders too: a second process on the database would send them twice.
    with DataDirLock(settings.data_dir):
        services = await Services.open(
            settings.knowledge_dir, settings.database_path, event_settings=settings.events
        )
        try:
            chat = ConsoleChat(services, sys.stdout, prompt="you> " if sys.stdin.isatty() else "")
            await chat.run(_stdin_lines(sys.stdin))
        finally:
            await services.close()
    return 0


async def _ask_json_lines(service: QuestionService) -> int:
    """One JSON object per input line; the format is how the knowledge is checked from outside."""
    async for line in _stdin_lines(sys.stdin):
        question = line.rstrip("\n")
        if not question.strip():
            continue
        result = await service.ask(question)
        answers = [
            {"id": m.entry.id, "title": m.entry.title, "text": m.entry.answer, "score": round(m.score, 4)}
            for m in result.matches
        ]
        record = {"q": question, "answers": answers, "declined": result.entry is None}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


async def _ask_one(service: QuestionService, question: str) -> int:
    from peerbot.console.render import ask_text

    result = await service.ask(question)
    print(ask_text(result))
    return 0 if result.entry is not None else 1


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    # Scripted questions do not touch the database: checking the knowledge must not fill the gap log.
    service = QuestionService(KnowledgeLibrary(settings.knowledge_dir))
    if args.json:
        return asyncio.run(_ask_json_lines(service))
    question = " ".join(args.question)
    if not question.strip():
        return _fail('give a question, e.g. peerbot ask "What is the RRR project?", or use --json', 2)
    return asyncio.run(_ask_one(service, question))


def _validate(settings: Settings, directory: Path | None) -> int:
    directory = directory or settings.knowledge_dir
    entries, problems = read_directory(directory)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found in {directory}", file=sys.stderr)
        return 1
    print(f"OK: {len(entries)} entries in {directory}")
    return 0


def _run_discord(settings: Settings) -> int:
    if not settings.token:
        return _fail("DISCORD_TOKEN is not set; set it to your bot's token, or run 'peerbot console'", 2)
    from peerbot.discord.runner import BotStartError, run_bot

    try:
        return run_bot(settings)
    except BotStartError as exc:
        return _fail(str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        return _fail(str(exc), 2)
    command = args.command or ("run" if settings.token else "console")
    _setup_logging(settings.log_level, quiet=command != "run")
    try:
        if command == "kb":
            return _validate(settings, args.directory)
        if command == "ask":
            return _ask(settings, args)
        if command == "run":
            return _run_discord(settings)
        return asyncio.run(_console(settings))
    except KnowledgeError as exc:
        # One summary line first, like every other start error; the list under it says what to fix.
        code = _fail(
            f"the knowledge base in {settings.knowledge_dir} has {len(exc.problems)} problem(s); "
            "peerbot kb validate lists them too:"
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return code
    except DatabaseError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
