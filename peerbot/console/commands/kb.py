"""/kb (keeping the knowledge base from chat), /helpful and /unhelpful in the terminal.

The terminal's user runs PeerBot and is an editor; fields are asked one by one with read_line, and a
multi-line field (example questions, the answer) ends with a line holding only ".". Every change goes
through the same core service as Discord, with the same checks and messages.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from peerbot.console.render import entry_text
from peerbot.core.feedback import UnknownEntry, stats_sections, vote_message
from peerbot.core.gaps import gap_lines
from peerbot.core.knowledge import CONSORTIA
from peerbot.core.knowledge_editor import EditRefused, EntryDraft, SaveFailed
from peerbot.core.knowledge_files import write_atomically
from peerbot.core.permissions import editor_refusal, is_editor
from peerbot.core.qa import UnknownConsortium

if TYPE_CHECKING:
    from peerbot.console.chat import ConsoleChat

END = "."
CANCELLED = "Cancelled: nothing was saved."
USAGE = (
    "Usage: /kb add | edit ID | remove ID | show ID | reload | export [FILE] | history ID | "
    "restore ID [VERSION] | gaps | stats"
)


class _EndOfInput(Exception):
    """The input ended in the middle of a form: nothing is saved."""


async def _ask(chat: ConsoleChat, prompt: str) -> str:
    line = await chat.read_line(prompt)
    if line is None:
        raise _EndOfInput
    return line


async def _ask_lines(chat: ConsoleChat, prompt: str, keep: str | None = None) -> str:
    """Lines until one holding only "."; with ``keep``, an empty first line keeps the current text."""
    chat.write(f'{prompt} (end with a line containing only "."' + (", or Enter to keep it)" if keep else ")"))
    lines: list[str] = []
    while True:
        line = await _ask(chat, "... ")
        if not lines and keep is not None and line == "":
            return keep
        if line.strip() == END:
            return "\n".join(lines)
        lines.append(line)


async def _ask_field(chat: ConsoleChat, label: str, keep: str | None = None) -> str:
    if keep is None:
        return (await _ask(chat, f"{label}: ")).strip()
    shown = keep if len(keep) <= 60 else keep[:57] + "..."
    answer = (await _ask(chat, f"{label} [{shown}]: ")).strip()
    return answer or keep


async def _consortium(chat: ConsoleChat, keep: str | None = None) -> str:
    raw = await _ask_field(chat, f"consortium ({', '.join(CONSORTIA)})", keep)
    try:
        return chat.services.questions.resolve_consortium(raw) if raw else raw
    except UnknownConsortium:
        return raw  # the editor's checks name the valid consortia


async def _editor_allowed(chat: ConsoleChat) -> bool:
    settings = await chat.services.guild_settings.get(chat.guild_id)
    if is_editor(chat.actor, settings):
        return True
    chat.write(editor_refusal(None))
    return False


async def add(chat: ConsoleChat, _: str) -> None:
    chat.write("New knowledge entry. Leave the id empty to derive it; end of input cancels.")
    draft = EntryDraft(
        entry_id=await _ask_field(chat, "id (empty: consortium + title)"),
        title=await _ask_field(chat, "title"),
        consortium=await _consortium(chat),
        tags=await _ask_field(chat, "tags (comma-separated)"),
        questions=await _ask_lines(chat, "Example questions, one per line"),
        answer=await _ask_lines(chat, "Answer (Discord markdown, several lines allowed)"),
        source=await _ask_field(chat, "source"),
        related=await _ask_field(chat, "related entry ids (comma-separated, optional)"),
    )
    chat.write((await chat.services.editor.add(draft, chat.actor)).message())


async def edit(chat: ConsoleChat, entry_id: str) -> None:
    editor = chat.services.editor
    entry = editor.entry(entry_id)
    version = editor.version(entry)  # the version this edit starts from: a change meanwhile is a conflict
    current = EntryDraft.of(entry)
    chat.write(f"Editing '{entry.id}' ({entry.file}). Press Enter to keep a field; end of input cancels.")
    draft = replace(
        current,
        title=await _ask_field(chat, "title", current.title),
        consortium=await _consortium(chat, current.consortium),
        tags=await _ask_field(chat, "tags", current.tags),
        questions=await _ask_lines(chat, "Example questions, one per line", current.questions),
        answer=await _ask_lines(chat, "Answer", current.answer),
        source=await _ask_field(chat, "source", current.source),
        related=await _ask_field(chat, "related", current.related or "-"),
    )
    if draft.related.strip() == "-":
        draft = replace(draft, related="")
    chat.write((await editor.edit(entry.id, draft, chat.actor, version)).message())


async def remove(chat: ConsoleChat, entry_id: str) -> None:
    editor = chat.services.editor
    entry = editor.entry(entry_id)
    version = editor.version(entry)
    answer = await _ask(chat, f"Remove '{entry.id}' (“{entry.title}”)? Type yes to confirm: ")
    if answer.strip().lower() not in {"yes", "y"}:
        chat.write("Not removed.")
        return
    chat.write((await editor.remove(entry.id, chat.actor, version)).message())


async def show(chat: ConsoleChat, entry_id: str) -> None:
    entry = chat.services.editor.entry(entry_id)
    chat.write(entry_text(entry))
    chat.write(
        f"tags: {', '.join(entry.tags)}\nexample questions:\n"
        + "\n".join(f"  - {question}" for question in entry.questions)
        + f"\nrelated: {', '.join(entry.related) or '(none)'}\n"
        f"file: {entry.file} · version {chat.services.editor.version(entry)}"
    )


async def reload(chat: ConsoleChat, _: str) -> None:
    report = await chat.services.editor.reload()
    if report.ok:
        chat.write(f"Reloaded: {report.entries} entries.")
    else:
        chat.write(
            f"Reload refused; still answering from the last good knowledge ({report.entries} entries):\n"
            + "\n".join(f"- {problem}" for problem in report.problems[:20])
        )


def _write_export(target: str, text: str) -> str:
    path = Path(target).expanduser()
    if path.exists():
        return f"{path} already exists; give a new file name."
    try:
        write_atomically(path, text)
    except OSError as exc:
        return f"Could not write {path}: {exc.strerror or exc}."
    return f"Exported the knowledge base to {path}."


async def export(chat: ConsoleChat, target: str) -> None:
    text = chat.services.editor.export()
    if target:
        chat.write(await asyncio.to_thread(_write_export, target, text))
    else:
        chat.write(text.rstrip("\n"))


async def history(chat: ConsoleChat, entry_id: str) -> None:
    changes = await chat.services.editor.history(entry_id)
    if not changes:
        chat.write(f"No recorded changes for '{entry_id[:80]}'.")
        return
    chat.write(f"Changes of '{entry_id}', newest first:\n" + "\n".join(c.summary() for c in changes))


async def restore(chat: ConsoleChat, arguments: str) -> None:
    entry_id, _, version = arguments.partition(" ")
    number = None
    if version.strip():
        if not re.fullmatch(r"#?\d{1,9}", version.strip()):
            chat.write("The version is a change number from /kb history, like 12 or #12.")
            return
        number = int(version.strip().lstrip("#"))
    chat.write((await chat.services.editor.restore(entry_id, chat.actor, number)).message())


async def gaps(chat: ConsoleChat, _: str) -> None:
    found = await chat.services.gaps.frequent(None)  # the terminal's questions are recorded without a server
    if not found:
        chat.write("No unanswered questions recorded yet.")
        return
    chat.write("Most asked questions I could not answer:\n" + "\n".join(gap_lines(found)))


async def stats(chat: ConsoleChat, _: str) -> None:
    sections = stats_sections(await chat.services.feedback.stats(None))
    chat.write("\n".join(f"{title}:\n" + ("\n".join(f"  {line}" for line in lines) or "  (none yet)")
                         for title, lines in sections))  # fmt: skip


SUBCOMMANDS = {
    "add": add,
    "edit": edit,
    "remove": remove,
    "show": show,
    "reload": reload,
    "export": export,
    "history": history,
    "restore": restore,
    "gaps": gaps,
    "stats": stats,
}
NEEDS_ID = {"edit", "remove", "show", "history", "restore"}


async def kb(chat: ConsoleChat, rest: str) -> None:
    name, _, argument = rest.strip().partition(" ")
    handler = SUBCOMMANDS.get(name.lower())
    if handler is None:
        chat.write(USAGE)
        return
    if name.lower() in NEEDS_ID and not argument.strip():
        chat.write(f"Usage: /kb {name.lower()} ID" + (" [VERSION]" if name.lower() == "restore" else ""))
        return
    if not await _editor_allowed(chat):
        return
    try:
        await handler(chat, argument.strip())
    except _EndOfInput:
        chat.write(CANCELLED)
    except (EditRefused, SaveFailed) as exc:
        chat.write(str(exc))


async def _vote(chat: ConsoleChat, entry_id: str, helpful: bool) -> None:
    entry_id = entry_id.strip()
    if not entry_id:
        chat.write(f"Usage: /{'helpful' if helpful else 'unhelpful'} ID (the id is shown under each answer)")
        return
    try:
        outcome = await chat.services.feedback.vote(entry_id, chat.actor.member_id, helpful, None)
    except UnknownEntry as exc:
        chat.write(str(exc))
        return
    entry = chat.services.library.base.get(entry_id)
    chat.write(vote_message(outcome, helpful, entry.title if entry else entry_id))


async def helpful(chat: ConsoleChat, entry_id: str) -> None:
    await _vote(chat, entry_id, True)


async def unhelpful(chat: ConsoleChat, entry_id: str) -> None:
    await _vote(chat, entry_id, False)


def register(chat: ConsoleChat) -> None:
    chat.add_command("kb", kb)
    chat.add_command("helpful", helpful)
    chat.add_command("unhelpful", unhelpful)
