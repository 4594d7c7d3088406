"""Changing the knowledge base from chat, on a temporary copy of the bundled knowledge directory."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from peerbot.core import knowledge_editor, knowledge_files
from peerbot.core.knowledge import MAX_ANSWER
from peerbot.core.knowledge_editor import (
    EditConflict,
    EditRefused,
    EntryDraft,
    KnowledgeEditor,
    SaveFailed,
    derive_id,
)
from peerbot.core.knowledge_loader import load_knowledge
from peerbot.core.permissions import Actor
from peerbot.core.services import Services

CAROL = Actor(3, "Carol", manage_guild=True)
BOB = Actor(2, "Bob")

AWKWARD = 'Colons: yes, "quotes", # not a comment\n\n- unicode: é ñ 日本 🎉\n- trailing: colon:'


@pytest.fixture
async def services(bundled_services: Services) -> Services:
    return bundled_services


def draft(**changes: str) -> EntryDraft:
    fields = {
        "title": "Tools cities used with the SSE",
        "consortium": "UpSocial / RRR",
        "tags": "rrr, tools, cities",
        "questions": "Which tools did RRR cities use?\nWhat tools helped cities?\nHow did cities help SSE?",
        "answer": "Cities used **platforms**, calls and shared spaces.",
        "source": "UpSocial / RRR: tools",
    }
    fields.update(changes)
    return EntryDraft(**fields)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


async def test_add_is_live_at_once_and_written_to_the_consortium_file(
    services: Services, knowledge: Path
) -> None:
    before = snapshot(knowledge)
    result = await services.editor.add(draft(), CAROL)
    assert result.entry_id == "rrr-tools-cities-used-with-the-sse" and result.file == "rrr.yaml"
    assert "Added 'rrr-tools-cities-used-with-the-sse' in rrr.yaml" in result.message()
    answer = await services.questions.ask("Which tools did RRR cities use?")
    assert answer.entry is not None and answer.entry.id == result.entry_id
    after = snapshot(knowledge)
    assert {name for name in after if after[name] != before[name]} == {"rrr.yaml"}
    assert after["rrr.yaml"].startswith(before["rrr.yaml"])  # appended: the other entries are byte-identical
    assert set(after) == set(before)  # no temporary file left behind
    reloaded = load_knowledge(knowledge)
    assert reloaded.get(result.entry_id) == services.library.base.get(result.entry_id)


async def test_edit_changes_only_that_entry_and_round_trips_awkward_text(
    services: Services, knowledge: Path
) -> None:
    original = (knowledge / "silk.yaml").read_text(encoding="utf-8")
    entry = services.library.base.in_consortium("DIESIS / SILK")[3]
    version = services.editor.version(entry)
    result = await services.editor.edit(entry.id, _with(EntryDraft.of(entry), answer=AWKWARD), CAROL, version)
    assert result.action == "edit" and result.entry is not None and result.entry.answer == AWKWARD
    assert load_knowledge(knowledge).get(entry.id).answer == AWKWARD  # type: ignore[union-attr]
    new = (knowledge / "silk.yaml").read_text(encoding="utf-8")
    old_lines, new_lines = original.splitlines(), new.splitlines()
    start = entry.line - 1
    assert old_lines[:start] == new_lines[:start]  # everything before the entry is untouched
    old_end = next(i for i in range(start + 1, len(old_lines)) if old_lines[i].startswith("  - id:"))
    new_end = next(i for i in range(start + 1, len(new_lines)) if new_lines[i].startswith("  - id:"))
    assert old_lines[old_end:] == new_lines[new_end:]  # and everything after it
    history = await services.editor.history(entry.id)
    assert [c.action for c in history] == ["edit"] and history[0].changed_fields() == ["answer"]
    assert history[0].member_id == CAROL.member_id and history[0].editor == "Carol"


def _with(base: EntryDraft, **changes: str) -> EntryDraft:
    from dataclasses import replace

    return replace(base, **changes)


async def test_unchanged_edit_writes_nothing(services: Services, knowledge: Path) -> None:
    entry = services.library.base.get("rrr-objectives")
    assert entry is not None
    before = snapshot(knowledge)
    result = await services.editor.edit(entry.id, EntryDraft.of(entry), CAROL, services.editor.version(entry))
    assert result.unchanged and "Nothing changed" in result.message()
    assert snapshot(knowledge) == before and await services.editor.history(entry.id) == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": "  "}, "Please fill in: title"),
        ({"answer": "", "source": ""}, "Please fill in: answer, source"),
        ({"entry_id": "rrr-objectives"}, "already exists"),
        ({"answer": "x" * (MAX_ANSWER + 1)}, f"the limit is {MAX_ANSWER}"),
        ({"related": "rrr-overview, no-such-entry"}, "'related' names 'no-such-entry', which does not exist"),
        ({"questions": "Only one?"}, "give at least 3 ways to ask"),
        ({"consortium": "Atlantis"}, "unknown consortium 'Atlantis'"),
        ({"entry_id": "Bad Id!"}, "'id' must be a lowercase slug"),
        ({"title": "t" * 101}, "the limit is 100"),
    ],
)
async def test_bad_drafts_are_refused_with_the_reason_and_nothing_written(
    services: Services, knowledge: Path, changes: dict[str, str], reason: str
) -> None:
    before = snapshot(knowledge)
    entries = services.library.base
    with pytest.raises(EditRefused) as refused:
        await services.editor.add(draft(**changes), CAROL)
    assert reason in str(refused.value)
    assert snapshot(knowledge) == before
    assert services.library.base is entries
    assert await services.database.fetch_all("SELECT * FROM knowledge_change") == []


async def test_remove_then_restore(services: Services, knowledge: Path) -> None:
    added = await services.editor.add(draft(), CAROL)
    entry = services.library.base.get(added.entry_id)
    assert entry is not None
    removed = await services.editor.remove(entry.id, BOB, services.editor.version(entry))
    assert removed.entry is None and services.library.base.get(entry.id) is None
    assert entry.id not in (knowledge / "rrr.yaml").read_text(encoding="utf-8")
    assert "/kb restore" in removed.message()
    restored = await services.editor.restore(entry.id, CAROL)
    assert restored.entry == entry and restored.file == "rrr.yaml"
    assert load_knowledge(knowledge).get(entry.id) == entry
    history = await services.editor.history(entry.id)
    assert [c.action for c in history] == ["restore", "remove", "add"]


async def test_restore_an_earlier_version_by_number(services: Services) -> None:
    entry = services.library.base.get("rrr-objectives")
    assert entry is not None
    first = await services.editor.edit(
        entry.id, _with(EntryDraft.of(entry), answer="First rewrite."), CAROL, services.editor.version(entry)
    )
    assert first.entry is not None
    await services.editor.edit(
        entry.id, _with(EntryDraft.of(first.entry), answer="Second rewrite."), BOB,
        services.editor.version(first.entry),
    )  # fmt: skip
    back = await services.editor.restore(entry.id, CAROL, first.change)
    assert back.entry is not None and back.entry.answer == "First rewrite."
    undo = await services.editor.restore(entry.id, CAROL)  # no version: undo the last change
    assert undo.entry is not None and undo.entry.answer == "Second rewrite."
    with pytest.raises(EditRefused, match="no change #999"):
        await services.editor.restore(entry.id, CAROL, 999)
    with pytest.raises(EditRefused, match="no recorded changes"):
        await services.editor.restore("rrr-hypothesis", CAROL)


async def test_remove_refused_while_other_entries_point_to_it(services: Services, knowledge: Path) -> None:
    entry = services.library.base.get("rrr-hypothesis")
    assert entry is not None
    before = snapshot(knowledge)
    with pytest.raises(EditRefused, match=r"related entries: .*rrr-overview, rrr-objectives"):
        await services.editor.remove(entry.id, CAROL, services.editor.version(entry))
    assert snapshot(knowledge) == before


async def test_two_editors_saving_at_once_never_lose_a_write(services: Services) -> None:
    entry = services.library.base.get("rrr-objectives")
    assert entry is not None
    version = services.editor.version(entry)  # both opened the same version
    results = await asyncio.gather(
        services.editor.edit(entry.id, _with(EntryDraft.of(entry), answer="Carol's text."), CAROL, version),
        services.editor.edit(entry.id, _with(EntryDraft.of(entry), answer="Bob's text."), BOB, version),
        return_exceptions=True,
    )
    saved = [r for r in results if not isinstance(r, BaseException)]
    conflicts = [r for r in results if isinstance(r, EditConflict)]
    assert len(saved) == 1 and len(conflicts) == 1
    assert "was changed by Carol" in str(conflicts[0]) and "not saved" in str(conflicts[0])
    assert services.library.base.get(entry.id).answer == "Carol's text."  # type: ignore[union-attr]
    assert len(await services.editor.history(entry.id)) == 1


async def test_two_editors_adding_to_the_same_file_are_both_kept(services: Services, knowledge: Path) -> None:
    await asyncio.gather(
        services.editor.add(draft(title="First new entry"), CAROL),
        services.editor.add(draft(title="Second new entry"), BOB),
    )
    on_disk = load_knowledge(knowledge)
    assert on_disk.get("rrr-first-new-entry") is not None and on_disk.get("rrr-second-new-entry") is not None


async def test_editing_a_removed_entry_is_a_conflict(services: Services) -> None:
    added = await services.editor.add(draft(), CAROL)
    entry = services.library.base.get(added.entry_id)
    assert entry is not None
    version = services.editor.version(entry)
    await services.editor.remove(entry.id, BOB, version)
    with pytest.raises(EditConflict, match="no longer in the knowledge base"):
        await services.editor.edit(entry.id, EntryDraft.of(entry), CAROL, version)


@pytest.mark.parametrize("failing", ["replace", "write"])
async def test_disk_full_leaves_file_and_answers_intact(
    services: Services, knowledge: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if failing == "replace":
        monkeypatch.setattr(knowledge_files.os, "replace", no_space)
    else:
        monkeypatch.setattr(knowledge_files.os, "fsync", no_space)
    before = snapshot(knowledge)
    served = services.library.base
    with pytest.raises(SaveFailed) as failed:
        await services.editor.add(draft(), CAROL)
    assert "No space left on device" in str(failed.value) and "Nothing was changed" in str(failed.value)
    assert snapshot(knowledge) == before  # original intact, temporary removed
    assert services.library.base is served
    assert await services.database.fetch_all("SELECT * FROM knowledge_change") == []


async def test_permission_error_is_reported(
    services: Services, knowledge: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(knowledge_files.tempfile, "mkstemp", denied)  # a read-only knowledge folder
    before = snapshot(knowledge)
    with pytest.raises(SaveFailed, match="Permission denied"):
        await services.editor.add(draft(), CAROL)
    assert (
        snapshot(knowledge) == before
        and services.library.base.get("rrr-tools-cities-used-with-the-sse") is None
    )


async def test_crash_between_temp_write_and_rename_keeps_the_original(
    services: Services, knowledge: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed after writing the temporary: the original is intact and the loader ignores it."""

    class Killed(BaseException):
        pass

    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    monkeypatch.setattr(knowledge_files.os, "replace", die)
    monkeypatch.setattr(knowledge_files.os, "unlink", lambda *a, **k: None)  # no cleanup: a real crash
    before = snapshot(knowledge)
    with pytest.raises(Killed):
        await services.editor.add(draft(), CAROL)
    leftovers = [name for name in snapshot(knowledge) if name not in before]
    assert len(leftovers) == 1 and leftovers[0].startswith(".rrr.yaml.tmp-")
    assert all((knowledge / name).read_bytes() == data for name, data in before.items())
    assert len(load_knowledge(knowledge)) == len(services.library.base)  # the loader ignores the temporary
    assert await services.editor.history("rrr-tools-cities-used-with-the-sse") == []
    assert list((await services.editor.recover()).values()) == [False]  # at start: the file never changed
    assert await services.database.fetch_all("SELECT * FROM knowledge_change") == []


async def test_hand_edit_on_disk_is_not_overwritten(services: Services, knowledge: Path) -> None:
    path = knowledge / "rrr.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("RRR's main objectives", "Hand edit"), "utf-8")
    with pytest.raises(EditRefused, match=r"changed on disk.*Run /kb reload"):
        await services.editor.add(draft(), CAROL)
    assert "Hand edit" in path.read_text(encoding="utf-8")


async def test_reload_of_a_broken_file_keeps_the_last_good_knowledge(
    services: Services, knowledge: Path
) -> None:
    count = len(services.library.base)
    (knowledge / "rrr.yaml").write_text("entries:\n  - id: [unclosed\n", encoding="utf-8")
    report = await services.editor.reload()
    assert not report.ok and report.entries == count
    assert any(problem.file == "rrr.yaml" for problem in report.problems)
    assert (await services.questions.ask("What were the objectives of RRR?")).entry is not None


async def test_export_is_the_whole_base_as_valid_yaml(services: Services, tmp_path: Path) -> None:
    exported = tmp_path / "export"
    exported.mkdir()
    (exported / "all.yaml").write_text(services.editor.export(), encoding="utf-8")
    assert list(load_knowledge(exported)) == list(services.library.base)


async def test_privacy_lists_and_anonymises_edits(services: Services) -> None:
    await services.editor.add(draft(), CAROL)
    described = await services.privacy.describe(CAROL.member_id)
    assert any(
        "add of entry 'rrr-tools-cities-used-with-the-sse'" in line for line in described["knowledge edits"]
    )
    erased = await services.privacy.forget(CAROL.member_id)
    assert erased["knowledge edits"] == 1
    (change,) = await services.editor.history("rrr-tools-cities-used-with-the-sse")
    assert change.member_id is None and change.editor == "a former member" and change.after
    assert (await services.privacy.describe(CAROL.member_id))["knowledge edits"] == []


def test_derived_ids() -> None:
    assert derive_id("UpSocial / RRR", "Key tools") == "rrr-key-tools"
    assert derive_id("UpSocial / RRR", "RRR's main objectives") == "rrr-main-objectives"
    assert derive_id("DIESIS / SILK", "SILK: what is it?") == "silk-what-is-it"
    assert derive_id("French Impact", "Économie sociale") == "french-impact-economie-sociale"
    assert len(derive_id("General", "word " * 40)) <= 60


def test_a_second_editor_object_shares_the_library_lock(services: Services) -> None:
    other = KnowledgeEditor(services.library, services.database, services.editor.audit)
    assert other._lock is services.editor._lock


def test_missing_knowledge_dir_starts_as_the_bundled_knowledge(tmp_path) -> None:
    from peerbot.core.knowledge_files import seed_from_bundled
    from peerbot.core.knowledge_loader import bundled_knowledge_dir, load_knowledge

    target = tmp_path / "data" / "knowledge"
    assert seed_from_bundled(target) is True
    assert len(load_knowledge(target)) == len(load_knowledge(bundled_knowledge_dir()))
    (target / "silk.yaml").write_text("entries: []\n", encoding="utf-8")
    assert seed_from_bundled(target) is False  # an existing folder is never overwritten
    assert (target / "silk.yaml").read_text(encoding="utf-8") == "entries: []\n"


class Killed(BaseException):
    """The process killed at this point: no except or finally of PeerBot's would run."""


NEW_ID = "rrr-tools-cities-used-with-the-sse"


async def test_killed_after_the_rename_the_change_is_in_the_history_at_restart(
    tmp_path: Path, knowledge: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "crash.sqlite3"
    services = await Services.open(knowledge, database)
    real_write = knowledge_editor.write_atomically

    def written_then_killed(path: Path, text: str) -> None:
        real_write(path, text)
        raise Killed

    monkeypatch.setattr(knowledge_editor, "write_atomically", written_then_killed)
    with pytest.raises(Killed):
        await services.editor.add(draft(), CAROL)
    await services.close()
    monkeypatch.undo()

    reopened = await Services.open(knowledge, database)
    try:
        entry = reopened.library.base.get(NEW_ID)
        assert entry is not None, "the file has the entry"
        (change,) = await reopened.editor.history(NEW_ID)
        assert (change.action, change.editor) == ("add", "Carol")
        await reopened.editor.remove(NEW_ID, CAROL, reopened.editor.version(entry))
        restored = await reopened.editor.restore(NEW_ID, CAROL)
        assert restored.entry == entry
    finally:
        await reopened.close()


async def test_killed_before_the_rename_nothing_is_recorded(
    tmp_path: Path, knowledge: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "crash.sqlite3"
    services = await Services.open(knowledge, database)

    def killed(path: Path, text: str) -> None:
        raise Killed

    monkeypatch.setattr(knowledge_editor, "write_atomically", killed)
    with pytest.raises(Killed):
        await services.editor.add(draft(), CAROL)
    assert await services.editor.history(NEW_ID) == [], "a change in progress is not history yet"
    await services.close()
    monkeypatch.undo()

    reopened = await Services.open(knowledge, database)
    try:
        assert reopened.library.base.get(NEW_ID) is None
        assert await reopened.editor.history(NEW_ID) == []
        assert await reopened.database.fetch_all("SELECT * FROM knowledge_change") == []
    finally:
        await reopened.close()


KILLED_EDIT = """
import asyncio, os, signal, sys
from dataclasses import replace
from pathlib import Path
from peerbot.core import knowledge_editor
from peerbot.core.knowledge_editor import EntryDraft
from peerbot.core.permissions import Actor
from peerbot.core.services import Services

real_write = knowledge_editor.write_atomically

def written_then_killed(path, text):
    real_write(path, text)
    os.kill(os.getpid(), signal.SIGKILL)

knowledge_editor.write_atomically = written_then_killed

async def main():
    services = await Services.open(Path(sys.argv[1]), Path(sys.argv[2]))
    entry = services.editor.entry("rrr-objectives")
    edited = replace(EntryDraft.of(entry), title="Edited, then killed")
    carol = Actor(3, "Carol", manage_guild=True)
    await services.editor.edit(entry.id, edited, carol, services.editor.version(entry))

asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
async def test_sigkill_right_after_the_rename_then_restore_undoes_the_edit(
    tmp_path: Path, knowledge: Path
) -> None:
    database = tmp_path / "crash.sqlite3"
    original = load_knowledge(knowledge).get("rrr-objectives")
    assert original is not None
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", KILLED_EDIT, str(knowledge), str(database)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr

    services = await Services.open(knowledge, database)
    try:
        edited = services.library.base.get("rrr-objectives")
        assert edited is not None and edited.title == "Edited, then killed"
        (change,) = await services.editor.history("rrr-objectives")
        assert change.action == "edit" and change.changed_fields() == ["title"]
        restored = await services.editor.restore("rrr-objectives", CAROL)
        assert restored.entry is not None and restored.entry.title == original.title
    finally:
        await services.close()


# -- input the bot accepted but could not handle -----------------------------------------------------------


async def test_an_answer_of_exactly_the_form_maximum_is_saved(services: Services, knowledge: Path) -> None:
    """The form allows 1,500 characters; saving them used to be refused as 1,501 (the block's newline)."""
    answer = ("word " * MAX_ANSWER)[: MAX_ANSWER - 1] + "."
    result = await services.editor.add(draft(answer=answer + "\n"), CAROL)
    assert result.entry is not None and len(result.entry.answer) == MAX_ANSWER
    assert len(load_knowledge(knowledge).get(result.entry_id).answer) == MAX_ANSWER  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": "\u200b\u200b"}, "'title' needs at least one letter or digit"),
        ({"title": "\u200b \u2060"}, "'title' needs at least one letter or digit"),
        ({"title": "!!! ???"}, "'title' needs at least one letter or digit"),
        ({"entry_id": "a" * 150}, "'id' is 150 characters; the limit is 64"),
        ({"entry_id": "self-reference", "related": "self-reference"}, "'related' lists the entry itself"),
    ],
)
async def test_titles_ids_and_self_references_discord_cannot_carry_are_refused(
    services: Services, knowledge: Path, changes: dict[str, str], reason: str
) -> None:
    before = snapshot(knowledge)
    with pytest.raises(EditRefused, match=reason):
        await services.editor.add(draft(**changes), CAROL)
    assert snapshot(knowledge) == before
    assert await services.database.fetch_all("SELECT * FROM knowledge_change") == []


async def test_titles_without_letters_never_get_a_prefix_only_id(services: Services) -> None:
    """A title of '!!!' used to get the id 'rrr', so the next such title collided with it."""
    assert derive_id("UpSocial / RRR", "!!!") == ""
    assert derive_id("UpSocial / RRR", "\u200b") == ""
    for title in ("!!!", "???"):
        with pytest.raises(EditRefused, match="at least one letter or digit"):
            await services.editor.add(draft(title=title), CAROL)
    assert services.library.base.get("rrr") is None


async def test_an_edit_cannot_make_an_entry_its_own_related(services: Services) -> None:
    entry = services.library.base.get("rrr-objectives")
    assert entry is not None
    changed = _with(EntryDraft.of(entry), related=f"{entry.related[0]}, {entry.id}")
    with pytest.raises(EditRefused, match="'related' lists the entry itself"):
        await services.editor.edit(entry.id, changed, CAROL, services.editor.version(entry))
    assert services.library.base.get(entry.id) == entry
