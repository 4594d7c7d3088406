"""The history of every change made to the knowledge base from chat: who, when, before and after.

Each row keeps the entry as YAML (the house style of ``knowledge/``) before and after the change, so
/kb history can show what changed and /kb restore can bring any version back. A row is written
'pending' before its file is replaced and marked 'applied' after, so a kill in between leaves a row
that :meth:`KnowledgeAudit.reconcile` settles against the files at the next start: file and history
always agree. Pending rows are not history yet: /kb history and /kb restore skip them. Editors' member ids
are stored, so this registers a privacy step: erasing anonymises the editor but keeps the knowledge
history, which belongs to the community rather than to the member.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from peerbot.core.clock import Clock, utc_now
from peerbot.core.knowledge import Entry, KnowledgeBase
from peerbot.core.knowledge_emitter import entry_yaml
from peerbot.core.knowledge_loader import Problem, parse_file
from peerbot.core.permissions import Actor
from peerbot.core.privacy import PrivacyService
from peerbot.core.storage import Database

log = logging.getLogger(__name__)

ACTIONS = ("add", "edit", "remove", "restore")
FORMER_MEMBER = "a former member"
_COMPARED = ("title", "consortium", "tags", "questions", "answer", "source", "related")


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded change; ``number`` is the version /kb restore takes."""

    number: int
    entry_id: str
    action: str
    file: str
    member_id: int | None
    member_name: str | None
    changed_at: datetime
    before: str | None
    after: str | None

    @property
    def editor(self) -> str:
        return self.member_name or FORMER_MEMBER

    def before_entry(self) -> Entry | None:
        return snapshot_entry(self.before, self.file)

    def after_entry(self) -> Entry | None:
        return snapshot_entry(self.after, self.file)

    def changed_fields(self) -> list[str]:
        """The fields an edit touched, for a one-line summary in /kb history."""
        before, after = self.before_entry(), self.after_entry()
        if before is None or after is None:
            return []
        return [name for name in _COMPARED if getattr(before, name) != getattr(after, name)]

    def summary(self) -> str:
        when = self.changed_at.strftime("%Y-%m-%d %H:%M UTC")
        line = f"#{self.number} {when}: {self.action} by {self.editor}"
        fields = self.changed_fields()
        if self.action in ("edit", "restore") and fields:
            line += f" (changed: {', '.join(fields)})"
        return line


def snapshot_entry(snapshot: str | None, file: str) -> Entry | None:
    """The entry a stored YAML snapshot describes (None if there is none or it no longer parses)."""
    if not snapshot:
        return None
    problems: list[Problem] = []
    entries = parse_file("entries:\n" + snapshot, file, problems)
    if problems or len(entries) != 1:
        log.warning("Stored knowledge snapshot does not parse: %s", "; ".join(map(str, problems)))
        return None
    return entries[0]


def _change(row: sqlite3.Row) -> Change:
    return Change(
        number=row["id"],
        entry_id=row["entry_id"],
        action=row["action"],
        file=row["file"],
        member_id=row["member_id"],
        member_name=row["member_name"],
        changed_at=datetime.fromisoformat(row["changed_at"]),
        before=row["before"],
        after=row["after"],
    )


class KnowledgeAudit:
    """Reads and writes the ``knowledge_change`` table."""

    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._database = database

    async def insert(
        self,
        connection: aiosqlite.Connection,
        *,
        action: str,
        file: str,
        actor: Actor,
        before: Entry | None,
        after: Entry | None,
        pending: bool = False,
    ) -> int:
        """Record a change inside the caller's transaction; ``pending`` until :meth:`applied`."""
        if action not in ACTIONS:
            raise ValueError(f"unknown knowledge change action {action!r}")
        entry = after or before
        if entry is None:
            raise ValueError("a knowledge change needs the entry before or after it")
        cursor = await connection.execute(
            "INSERT INTO knowledge_change (entry_id, action, file, member_id, member_name, changed_at, "
            "before, after, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.id,
                action,
                file,
                actor.member_id,
                actor.display_name or None,
                self._clock().isoformat(),
                entry_yaml(before) if before else None,
                entry_yaml(after) if after else None,
                "pending" if pending else "applied",
            ),
        )
        return int(cursor.lastrowid or 0)

    async def begin(
        self, *, action: str, file: str, actor: Actor, before: Entry | None, after: Entry | None
    ) -> int:
        """Record a change as pending and commit it, before its file is replaced (see the module)."""
        async with self._database.transaction() as connection:
            return await self.insert(
                connection, action=action, file=file, actor=actor, before=before, after=after, pending=True
            )

    async def applied(self, number: int) -> None:
        """The file now holds the change: it is history."""
        await self._database.execute(
            "UPDATE knowledge_change SET state = 'applied' WHERE id = ? AND state = 'pending'", (number,)
        )

    async def discard(self, number: int) -> None:
        """The file was not replaced: the change never happened."""
        await self._database.execute(
            "DELETE FROM knowledge_change WHERE id = ? AND state = 'pending'", (number,)
        )

    async def pending(self) -> list[Change]:
        rows = await self._database.fetch_all(
            "SELECT * FROM knowledge_change WHERE state = 'pending' ORDER BY id"
        )
        return [_change(row) for row in rows]

    async def reconcile(self, base: KnowledgeBase) -> dict[int, bool]:
        """Settle the changes a crash left pending against ``base``, the knowledge just loaded from the files.

        A change whose entry reads as ``after`` is applied; one that reads as ``before`` is dropped (the
        rename never happened). One that reads as neither was overwritten by hand since: it is dropped
        too, with a warning, as history cannot say what happened. Returns number -> applied.
        """
        settled: dict[int, bool] = {}
        for change in await self.pending():
            served = base.get(change.entry_id)
            if served == change.after_entry():
                await self.applied(change.number)
                settled[change.number] = True
                log.warning(
                    "Knowledge change #%d (%s of %s) was written before a crash; recorded in the history now",
                    change.number, change.action, change.entry_id,
                )  # fmt: skip
                continue
            if served != change.before_entry():
                log.warning(
                    "Knowledge change #%d (%s of %s) was interrupted and %s no longer matches it; "
                    "it is left out of the history",
                    change.number, change.action, change.entry_id, change.file,
                )  # fmt: skip
            else:
                log.info("Knowledge change #%d was interrupted before its file was written", change.number)
            await self.discard(change.number)
            settled[change.number] = False
        return settled

    async def history(self, entry_id: str, limit: int = 20) -> list[Change]:
        """The entry's most recent changes, newest first."""
        rows = await self._database.fetch_all(
            "SELECT * FROM knowledge_change WHERE entry_id = ? AND state = 'applied' "
            "ORDER BY id DESC LIMIT ?",
            (entry_id, limit),
        )
        return [_change(row) for row in rows]

    async def get(self, number: int) -> Change | None:
        row = await self._database.fetch_one(
            "SELECT * FROM knowledge_change WHERE id = ? AND state = 'applied'", (number,)
        )
        return _change(row) if row else None

    async def latest(self, entry_id: str) -> Change | None:
        changes = await self.history(entry_id, limit=1)
        return changes[0] if changes else None

    def register_privacy(self, service: PrivacyService) -> None:
        service.register("knowledge edits", self._describe_member, self._anonymise_member)

    async def _describe_member(self, member_id: int) -> list[str]:
        rows = await self._database.fetch_all(
            "SELECT * FROM knowledge_change WHERE member_id = ? ORDER BY id", (member_id,)
        )
        return [
            f"Knowledge base change #{change.number}: {change.action} of entry '{change.entry_id}' on "
            f"{change.changed_at:%Y-%m-%d %H:%M} UTC, recorded with your member id and display name"
            for change in map(_change, rows)
        ]

    async def _anonymise_member(self, member_id: int) -> int:
        """Forget who made the changes; the changes themselves stay in the knowledge history."""
        async with self._database.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE knowledge_change SET member_id = NULL, member_name = NULL WHERE member_id = ?",
                (member_id,),
            )
            return cursor.rowcount
