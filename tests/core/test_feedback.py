"""Helpful / Not helpful votes, answers served, /kb stats and the votes' privacy step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from peerbot.core.feedback import UnknownEntry, VoteOutcome, vote_message
from peerbot.core.services import Services

GUILD = 1000


@pytest.fixture
async def services(tmp_path: Path, sample_dir: Path) -> AsyncIterator[Services]:
    opened = await Services.open(sample_dir, tmp_path / "db.sqlite3")
    yield opened
    await opened.close()


async def test_one_vote_per_member_per_entry_changeable(services: Services) -> None:
    feedback = services.feedback
    assert await feedback.vote("glossary-sdgs", 7, True, GUILD) is VoteOutcome.RECORDED
    assert await feedback.vote("glossary-sdgs", 7, True, GUILD) is VoteOutcome.UNCHANGED
    assert await feedback.vote("glossary-sdgs", 7, False, GUILD) is VoteOutcome.CHANGED
    assert await feedback.vote("glossary-sdgs", 8, False, GUILD) is VoteOutcome.RECORDED
    rows = await services.database.fetch_all("SELECT * FROM answer_vote")
    assert len(rows) == 2
    stats = await feedback.stats(GUILD)
    assert stats.votes == 2 and stats.most_helpful == ()
    assert [(c.entry_id, c.count) for c in stats.least_helpful] == [("glossary-sdgs", 2)]
    assert "marked as not helpful" in vote_message(VoteOutcome.CHANGED, False, "SDGs")


async def test_vote_on_unknown_entry_is_refused(services: Services) -> None:
    with pytest.raises(UnknownEntry, match="no entry 'nope'"):
        await services.feedback.vote("nope", 7, True, GUILD)


async def test_answers_served_are_counted_without_user(services: Services) -> None:
    await services.questions.ask("What are the SDGs?", guild_id=GUILD)
    await services.questions.ask("What are the SDGs?", guild_id=GUILD)
    await services.questions.ask("What is the RRR project?", guild_id=GUILD)
    await services.questions.ask("What is the RRR project?", guild_id=2000)  # another server
    await services.questions.ask("what's the weather in Lisbon", guild_id=GUILD)  # declined: not served
    rows = await services.database.fetch_all("SELECT * FROM answer_served")
    assert all("member_id" not in row.keys() for row in rows)  # noqa: SIM118
    await services.feedback.vote("rrr-overview", 7, True, GUILD)
    stats = await services.feedback.stats(GUILD)
    assert [(c.entry_id, c.count) for c in stats.most_asked] == [("glossary-sdgs", 2), ("rrr-overview", 1)]
    assert [c.entry_id for c in stats.most_helpful] == ["rrr-overview"] and stats.served == 3


async def test_privacy_describes_and_erases_votes(services: Services) -> None:
    await services.feedback.vote("glossary-sdgs", 7, True, GUILD)
    await services.feedback.vote("rrr-overview", 7, False, None)
    await services.feedback.vote("rrr-overview", 8, True, GUILD)
    described = await services.privacy.describe(7)
    assert len(described["answer votes"]) == 2 and "glossary-sdgs" in described["answer votes"][1]
    assert (await services.privacy.forget(7))["answer votes"] == 2
    assert len(await services.database.fetch_all("SELECT * FROM answer_vote")) == 1
