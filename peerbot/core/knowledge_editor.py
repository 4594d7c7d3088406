"""Changing the knowledge base from chat: add, edit, remove and restore entries, safely.

Every change runs under one lock per library: read the served base, build the changed file with the
house-style emitter, validate it with the loader's own rules (by parsing exactly the text about to be
written, plus the cross-entry checks), record it as pending in the audit table, write it atomically,
serve the new base and mark the record applied. A failure at any step leaves the file, the database
and the served knowledge as they were; a kill between the rename and the last step leaves a pending
record that :meth:`KnowledgeEditor.recover` settles against the file at the next start. An edit
names the version it started from; if the entry changed meanwhile the editor is told and nothing is
overwritten (optimistic concurrency: never a silent lost write).
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
import weakref
from dataclasses import dataclass, replace
from pathlib import Path

from peerbot.core.knowledge import Entry, KnowledgeBase
from peerbot.core.knowledge_audit import Change, KnowledgeAudit
from peerbot.core.knowledge_emitter import entry_version, file_yaml
from peerbot.core.knowledge_files import file_for_consortium, write_atomically
from peerbot.core.knowledge_loader import Problem, check_entries, parse_file
from peerbot.core.library import KnowledgeLibrary, ReloadReport
from peerbot.core.permissions import Actor
from peerbot.core.storage import Database
from peerbot.core.text import has_letter_or_digit

log = logging.getLogger(__name__)

MAX_ID = 60  # derived ids are cut at a dash before this; a Discord custom id must stay under 100
MAX_SHOWN_PROBLEMS = 10

# One lock per served library, whichever editor objects point at it.
_LOCKS: weakref.WeakKeyDictionary[KnowledgeLibrary, asyncio.Lock] = weakref.WeakKeyDictionary()


def library_lock(library: KnowledgeLibrary) -> asyncio.Lock:
    lock = _LOCKS.get(library)
    if lock is None:
        lock = _LOCKS[library] = asyncio.Lock()
    return lock


class EditRefused(ValueError):
    """The change was not made; ``str()`` says why in words an editor can act on."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        self.problems = problems
        super().__init__(message)


class EditConflict(EditRefused):
    """The entry changed (or vanished) since the editor opened it; their text was not saved."""


class SaveFailed(RuntimeError):
    """Writing the file failed (disk full, permissions); nothing was changed."""


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What an editor typed, field by field, as the modal or the terminal collects it."""

    title: str
    consortium: str
    tags: str  # comma-separated
    questions: str  # one per line
    answer: str
    source: str
    entry_id: str = ""  # empty: derived from the consortium and the title
    related: str = ""  # comma-separated entry ids

    @classmethod
    def of(cls, entry: Entry) -> EntryDraft:
        """The draft that edits ``entry`` without changing it (to pre-fill a form)."""
        return cls(
            title=entry.title,
            consortium=entry.consortium,
            tags=", ".join(entry.tags),
            questions="\n".join(entry.questions),
            answer=entry.answer,
            source=entry.source,
            entry_id=entry.id,
            related=", ".join(entry.related),
        )


@dataclass(frozen=True, slots=True)
class EditResult:
    action: str  # add, edit, remove, restore
    entry_id: str
    file: str
    change: int  # the audit number, a version /kb restore accepts
    entry: Entry | None  # the entry now served (None after a removal)
    unchanged: bool = False  # an edit that changed nothing: no write, no audit row
    note: str = ""

    def message(self) -> str:
        """The confirmation an editor reads, the same in Discord and the terminal."""
        if self.unchanged:
            return f"Nothing changed in '{self.entry_id}': it already says exactly that."
        done = {"add": "Added", "edit": "Saved", "remove": "Removed", "restore": "Restored"}[self.action]
        text = f"{done} '{self.entry_id}' in {self.file} (change #{self.change}). "
        text += "It is live now." if self.entry else "It is no longer answered."
        if self.action == "remove":
            text += f" Bring it back with /kb restore {self.entry_id}."
        return text + (f" {self.note}" if self.note else "")


def _slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_text = re.sub(r"['’]s\b", "", ascii_text).replace("'", "").replace("’", "")  # RRR's -> rrr
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def derive_id(consortium: str, title: str) -> str:
    """The consortium's short name and the title's slug: ("UpSocial / RRR", "Key tools") -> rrr-key-tools."""
    prefix = _slug(consortium.split("/")[-1]) or "entry"
    body = _slug(title)
    if not body:  # the prefix alone would be the same id for every such title: the editor must give one
        return ""
    slug = body if body == prefix or body.startswith(prefix + "-") else f"{prefix}-{body}".strip("-")
    if len(slug) > MAX_ID:
        slug = slug[: MAX_ID + 1].rsplit("-", 1)[0]
    return slug


def _split(text: str, separators: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(separators, text) if part.strip())


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def describe_problems(problems: tuple[Problem, ...] | list[Problem], entry_id: str | None = None) -> str:
    """Problems as bullet lines; the entry being edited is implied, other entries are named."""
    lines = []
    for problem in list(problems)[:MAX_SHOWN_PROBLEMS]:
        if problem.entry_id and problem.entry_id != entry_id:
            lines.append(f"- {problem.entry_id}: {problem.message}")
        else:
            lines.append(f"- {problem.message}")
    if len(problems) > MAX_SHOWN_PROBLEMS:
        lines.append(f"- … and {len(problems) - MAX_SHOWN_PROBLEMS} more")
    return "\n".join(lines)


def _file_order(name: str) -> tuple[bool, str]:
    """The loader reads every *.yaml then every *.yml, each sorted by name."""
    return (not name.endswith(".yaml"), name)


class KnowledgeEditor:
    """The one way chat changes the knowledge base; both front-ends call it."""

    def __init__(self, library: KnowledgeLibrary, database: Database, audit: KnowledgeAudit) -> None:
        self.library = library
        self._database = database
        self.audit = audit

    @property
    def _lock(self) -> asyncio.Lock:
        return library_lock(self.library)

    # -- reading ---------------------------------------------------------------------------------------------

    def entry(self, entry_id: str) -> Entry:
        """The served entry, or EditRefused saying it does not exist."""
        entry = self.library.base.get(entry_id.strip())
        if entry is None:
            raise EditRefused(
                f"There is no entry '{entry_id.strip()[:80]}'. Use /topics to see the ids, "
                "or /kb restore to bring back a removed one."
            )
        return entry

    @staticmethod
    def version(entry: Entry) -> str:
        return entry_version(entry)

    def export(self) -> str:
        """The whole served knowledge base as one YAML document (valid input for `peerbot kb validate`)."""
        return file_yaml(self.library.base.entries)

    async def history(self, entry_id: str, limit: int = 20) -> list[Change]:
        return await self.audit.history(entry_id.strip(), limit)

    async def recover(self) -> dict[int, bool]:
        """Settle changes a crash left half-done against the files as loaded; run at start."""
        async with self._lock:
            return await self.audit.reconcile(self.library.base)

    async def reload(self) -> ReloadReport:
        """Re-read the files; on problems keep the last good knowledge (the report lists them)."""
        async with self._lock:
            return self.library.reload()

    # -- changing --------------------------------------------------------------------------------------------

    def draft_entry(self, draft: EntryDraft, entry_id: str, file: str) -> Entry:
        """The entry a draft describes; refuses empty fields up front, the loader checks the rest."""
        fields = {
            "title": _clean(draft.title),
            "consortium": _clean(draft.consortium),
            "tags": _clean(draft.tags),
            "example questions": _clean(draft.questions),
            "answer": _clean(draft.answer),
            "source": _clean(draft.source),
        }
        missing = [name for name, value in fields.items() if not value]
        if missing:
            raise EditRefused(f"Please fill in: {', '.join(missing)}. Nothing was saved.")
        return Entry(
            id=entry_id,
            title=fields["title"],
            consortium=fields["consortium"],
            tags=_split(fields["tags"], r"[,\n]"),
            questions=_split(fields["example questions"], r"\n"),
            answer=fields["answer"],
            source=fields["source"],
            related=_split(_clean(draft.related), r"[,\s]+"),
            file=file,
        )

    async def add(self, draft: EntryDraft, actor: Actor) -> EditResult:
        """A new entry, written to its consortium's file."""
        async with self._lock:
            base = self.library.base
            self.draft_entry(draft, "", "")  # empty fields are named before an id is made from the title
            title = _clean(draft.title)
            if not has_letter_or_digit(title):
                raise EditRefused(
                    "Not saved: 'title' needs at least one letter or digit (invisible characters do not "
                    "count)."
                )
            entry_id = _clean(draft.entry_id).lower() or derive_id(_clean(draft.consortium), title)
            if not entry_id:
                raise EditRefused(
                    "Please give an id (lowercase letters, digits and dashes): the title has no letters "
                    "a-z or digits to make one from. Nothing was saved."
                )
            existing = base.get(entry_id)
            if existing is not None:
                raise EditRefused(
                    f"An entry with the id '{entry_id}' already exists (“{existing.title}”). "
                    f"Give another id, or change it with /kb edit {entry_id}. Nothing was saved."
                )
            file = file_for_consortium(_clean(draft.consortium), base.entries)
            entry = self.draft_entry(draft, entry_id, file)
            entries = [e for e in base.entries if e.file == file] + [entry]
            return await self._commit(base, file, entries, "add", actor, None, entry)

    async def edit(self, entry_id: str, draft: EntryDraft, actor: Actor, expected_version: str) -> EditResult:
        """Replace an entry's fields, if it is still the version the editor started from."""
        async with self._lock:
            base = self.library.base
            current = await self._expect(base, entry_id, expected_version)
            entry = self.draft_entry(draft, current.id, current.file)
            if entry == current:
                return EditResult("edit", current.id, current.file, 0, current, unchanged=True)
            entries = [entry if e.id == current.id else e for e in base.entries if e.file == current.file]
            return await self._commit(base, current.file, entries, "edit", actor, current, entry)

    async def remove(self, entry_id: str, actor: Actor, expected_version: str) -> EditResult:
        """Take an entry out of the knowledge base (its history stays, so it can be restored)."""
        async with self._lock:
            base = self.library.base
            current = await self._expect(base, entry_id, expected_version)
            pointing = [e.id for e in base.entries if current.id in e.related]
            if pointing:
                raise EditRefused(
                    f"Other entries list '{current.id}' in their related entries: {', '.join(pointing)}. "
                    "Edit them first (the related field), then remove it. Nothing was removed."
                )
            entries = [e for e in base.entries if e.file == current.file and e.id != current.id]
            return await self._commit(base, current.file, entries, "remove", actor, current, None)

    async def restore(self, entry_id: str, actor: Actor, number: int | None = None) -> EditResult:
        """Bring back an entry as it was after change ``number`` (default: before its last change)."""
        entry_id = entry_id.strip()
        async with self._lock:
            base = self.library.base
            target = await self._restore_target(entry_id, number)
            current = base.get(entry_id)
            file = current.file if current else target.file
            wanted = replace(target, file=file)
            if current == wanted:
                return EditResult("restore", entry_id, file, 0, current, unchanged=True)
            if current is None:
                entries = [e for e in base.entries if e.file == file] + [wanted]
            else:
                entries = [wanted if e.id == entry_id else e for e in base.entries if e.file == file]
            return await self._commit(base, file, entries, "restore", actor, current, wanted)

    async def _restore_target(self, entry_id: str, number: int | None) -> Entry:
        if number is not None:
            change = await self.audit.get(number)
            if change is None or change.entry_id != entry_id:
                raise EditRefused(
                    f"There is no change #{number} of '{entry_id[:80]}'. "
                    f"/kb history {entry_id[:80]} lists them."
                )
            # A removal's version is the entry as it was when removed.
            entry = change.before_entry() if change.action == "remove" else change.after_entry()
        else:
            latest = await self.audit.latest(entry_id)
            if latest is None:
                raise EditRefused(f"'{entry_id[:80]}' has no recorded changes to restore.")
            entry = latest.before_entry()
            if entry is None:
                raise EditRefused(
                    f"'{entry_id}' was created by change #{latest.number}; there is no earlier version. "
                    f"Use /kb remove {entry_id} to take it out."
                )
        if entry is None:
            raise EditRefused("That version can no longer be read; pick another from /kb history.")
        return entry

    async def _expect(self, base: KnowledgeBase, entry_id: str, expected_version: str) -> Entry:
        """The current entry, if it is the version the editor started from; else a clear conflict."""
        entry_id = entry_id.strip()
        current = base.get(entry_id)
        latest = await self.audit.latest(entry_id)
        by = f" by {latest.editor} at {latest.changed_at:%H:%M} UTC" if latest else ""
        if current is None:
            raise EditConflict(
                f"'{entry_id[:80]}' is no longer in the knowledge base (removed{by} or never there). "
                "Your changes were not saved."
            )
        if entry_version(current) != expected_version:
            raise EditConflict(
                f"'{entry_id}' was changed{by} while you were editing it, so your version was not saved "
                f"(nothing is overwritten). Open it again with /kb edit {entry_id} and re-apply your change."
            )
        return current

    async def _commit(
        self,
        base: KnowledgeBase,
        file: str,
        file_entries: list[Entry],
        action: str,
        actor: Actor,
        before: Entry | None,
        after: Entry | None,
    ) -> EditResult:
        """Validate, write, record and serve; called with the lock held."""
        entry_id = (after or before).id  # type: ignore[union-attr]
        text = file_yaml(file_entries)
        problems: list[Problem] = []
        written = parse_file(text, file, problems)  # the loader's own rules, on the exact text to write
        others = [e for e in base.entries if e.file != file]
        entries = sorted(others + written, key=lambda e: _file_order(e.file))  # stable within a file
        check_entries(entries, problems)
        if problems:
            raise EditRefused(
                "Not saved, the entry has problems:\n" + describe_problems(problems, entry_id),
                tuple(problems),
            )
        if written != file_entries:  # Entry equality ignores file and line: this compares content
            log.error("Knowledge emitter did not round-trip %s in %s", entry_id, file)
            raise EditRefused("Not saved: this text could not be written back exactly. Please report it.")
        directory = self.library.directory
        path = directory / file
        note = await asyncio.to_thread(self._check_disk, path, [e for e in base.entries if e.file == file])
        new_base = KnowledgeBase.of(entries, base.directory or directory)
        # Committed before the rename: whatever kills PeerBot after it, the history can be settled.
        number = await self.audit.begin(action=action, file=file, actor=actor, before=before, after=after)
        try:
            await asyncio.to_thread(write_atomically, path, text)
        except OSError as exc:
            await self.audit.discard(number)
            log.error("Writing %s failed: %s", path, exc)
            reason = exc.strerror or str(exc)
            raise SaveFailed(
                f"Could not save {file}: {reason}. Nothing was changed: the file and the answers "
                "are as they were. Please tell the person who runs PeerBot."
            ) from exc
        self.library.replace(new_base)
        try:
            await self.audit.applied(number)
        except Exception:  # the file is written and served; the pending row is settled at next start
            log.exception("Could not mark knowledge change #%d applied", number)
            note = (note + " " if note else "") + "Its history entry will appear after PeerBot restarts."
        served = new_base.get(entry_id) if after else None
        log.info(
            "Knowledge %s of %s in %s by %s (change #%d)", action, entry_id, file, actor.member_id, number
        )
        return EditResult(action, entry_id, file, number, served, note=note)

    @staticmethod
    def _check_disk(path: Path, served: list[Entry]) -> str:
        """Refuse to overwrite hand edits made since the last load; returns a note for the editor."""
        if not path.exists():
            return "" if not served else f"{path.name} was missing and has been written again."
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise EditRefused(f"Not saved: {path.name} cannot be read ({exc}).") from exc
        problems: list[Problem] = []
        on_disk = parse_file(text, path.name, problems)
        if problems or on_disk != served:
            raise EditRefused(
                f"Not saved: {path.name} was changed on disk since the knowledge was last loaded. "
                "Run /kb reload first (it reports any problem in the file), then try again."
            )
        if text != file_yaml(on_disk):
            return f"Note: {path.name} was not in the house format and was re-formatted."
        return ""
