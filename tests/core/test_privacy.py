"""/privacy and /forget: every registered feature is described and erased, even when one fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from peerbot.core.intros import IntroDraft, IntroStore
from peerbot.core.privacy import PrivacyError, PrivacyService
from peerbot.core.storage import Database

MEMBER = 7
GUILD = 1000
OTHER_GUILD = 2000


class MemoryFeature:
    """A stand-in feature that keeps notes per member, and can be told to fail."""

    def __init__(self, notes: dict[int, list[str]], fail: bool = False) -> None:
        self.notes = notes
        self.fail = fail
        self.erase_calls: list[int] = []

    async def describe(self, member_id: int) -> list[str]:
        if self.fail:
            raise RuntimeError("disk on fire")
        return [f"Note: {note}" for note in self.notes.get(member_id, [])]

    async def erase(self, member_id: int) -> int:
        self.erase_calls.append(member_id)
        if self.fail:
            raise RuntimeError("disk on fire")
        return len(self.notes.pop(member_id, []))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "db.sqlite3")
    yield database
    await database.close()


@pytest.fixture
async def intros(database: Database) -> IntroStore:
    store = IntroStore(database)
    draft = IntroDraft(name="Ana", country="Chile", topics="fair trade", organisation="Coop")
    await store.save(GUILD, MEMBER, draft)
    await store.save(OTHER_GUILD, MEMBER, draft)
    await store.save(GUILD, MEMBER + 1, draft)
    await store.set_card(GUILD, MEMBER, 11, 12)
    return store


async def test_describe_and_forget_cover_every_registered_feature(intros: IntroStore) -> None:
    service = PrivacyService()
    intros.register_privacy(service)
    notes = MemoryFeature({MEMBER: ["likes tea", "RSVP: webinar"], MEMBER + 1: ["other"]})
    service.register("notes", notes.describe, notes.erase)
    assert service.names == ["introductions", "notes"]

    described = await service.describe(MEMBER)
    assert list(described) == ["introductions", "notes"]
    assert described["notes"] == ["Note: likes tea", "Note: RSVP: webinar"]
    intro_lines = "\n".join(described["introductions"])
    assert f"server {GUILD}" in intro_lines and f"server {OTHER_GUILD}" in intro_lines
    assert "Name: Ana" in intro_lines and "What I work on: fair trade" in intro_lines
    assert "Card posted in channel 11, message 12" in intro_lines

    cards = await intros.cards_of(MEMBER)  # a front-end reads these first, to delete the posted cards
    assert cards == [(11, 12)]
    assert await service.forget(MEMBER) == {"introductions": 2, "notes": 2}
    assert await service.describe(MEMBER) == {"introductions": [], "notes": []}
    assert await intros.get(GUILD, MEMBER + 1) is not None  # other members untouched
    assert notes.notes == {MEMBER + 1: ["other"]}


async def test_a_failing_step_does_not_stop_the_others(intros: IntroStore) -> None:
    service = PrivacyService()
    first = MemoryFeature({MEMBER: ["a"]})
    broken = MemoryFeature({MEMBER: ["b"]}, fail=True)
    service.register("first", first.describe, first.erase)
    service.register("broken", broken.describe, broken.erase)
    intros.register_privacy(service)

    expected = r"Could not erase your data in: broken\. Erased: first \(1\), introductions \(2\)"
    with pytest.raises(PrivacyError, match=expected) as caught:
        await service.forget(MEMBER)
    assert list(caught.value.failed) == ["broken"]
    assert caught.value.done == {"first": 1, "introductions": 2}
    assert broken.erase_calls == [MEMBER]
    assert first.notes == {} and await intros.cards_of(MEMBER) == []
    assert await intros.get(OTHER_GUILD, MEMBER) is None


async def test_a_failing_describe_is_named(intros: IntroStore) -> None:
    service = PrivacyService()
    intros.register_privacy(service)
    broken = MemoryFeature({}, fail=True)
    service.register("events", broken.describe, broken.erase)
    with pytest.raises(PrivacyError, match="Could not read your data in: events") as caught:
        await service.describe(MEMBER)
    assert len(caught.value.done["introductions"]) > 0


def test_names_must_be_unique_and_readable() -> None:
    service = PrivacyService()
    feature = MemoryFeature({})
    service.register("notes", feature.describe, feature.erase)
    with pytest.raises(ValueError, match="already registered"):
        service.register("notes", feature.describe, feature.erase)
    with pytest.raises(ValueError, match="needs a name"):
        service.register("  ", feature.describe, feature.erase)
    assert service.names == ["notes"]


async def test_nothing_registered_means_nothing_stored() -> None:
    service = PrivacyService()
    assert await service.describe(MEMBER) == {}
    assert await service.forget(MEMBER) == {}
