"""Introduction cards across kills: recorded, posted again or removed at start, never doubled or lost.

A fake board stands for Discord (it keeps its messages across PeerBot "restarts", as Discord does);
a restart is closing the services and opening new ones on the same database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from peerbot.core.card_posts import Card, CardError, CardPublisher
from peerbot.core.intros import IntroDraft, Introduction
from peerbot.core.services import Services

GUILD, ALICE, CHANNEL = 1, 10, 500
DRAFT = IntroDraft(name="Alice", country="France", topics="impact measurement")
NOW = datetime(2030, 5, 6, 7, 8, tzinfo=UTC)


class Killed(BaseException):
    """PeerBot killed at this point: none of its except or finally blocks would run."""


@dataclass
class Posted:
    channel_id: int
    marker: str
    name: str


@dataclass
class FakeBoard:
    """Discord's side: messages by id; ``after_post`` runs once a card is accepted (to kill there)."""

    messages: dict[int, Posted] = field(default_factory=dict)
    after_post: Callable[[], Awaitable[None]] | None = None
    before_post: Callable[[], Awaitable[None]] | None = None
    find_fails: bool = False
    next_id: int = 900

    async def post(self, intro: Introduction, channel_id: int, marker: str) -> int:
        if self.before_post is not None:
            await self.before_post()
        self.next_id += 1
        self.messages[self.next_id] = Posted(channel_id, marker, intro.name)
        if self.after_post is not None:
            await self.after_post()
        return self.next_id

    async def edit(self, intro: Introduction, card: Card) -> bool:
        if card[1] not in self.messages:
            return False
        self.messages[card[1]].name = intro.name
        return True

    async def find(self, channel_id: int, marker: str) -> int | None:
        if self.find_fails:
            raise CardError("Discord is down")
        found = [i for i, m in self.messages.items() if m.channel_id == channel_id and m.marker == marker]
        return found[-1] if found else None

    async def delete(self, card: Card) -> bool:
        self.messages.pop(card[1], None)
        return True


async def kill() -> None:
    raise Killed


@pytest.fixture
def board() -> FakeBoard:
    return FakeBoard()


@pytest.fixture
async def opened(tmp_path: Path, sample_dir: Path) -> AsyncIterator[Callable[[], Awaitable[Services]]]:
    """Open services on one database, as many times as a test restarts; all closed at the end."""
    running: list[Services] = []

    async def open_services() -> Services:
        for services in running:
            await services.close()
        running.clear()
        running.append(await Services.open(sample_dir, tmp_path / "db.sqlite3", clock=lambda: NOW))
        return running[0]

    yield open_services
    for services in running:
        await services.close()


def publisher(services: Services, board: FakeBoard) -> CardPublisher:
    return CardPublisher(services.intros, services.card_posts, board)


async def test_killed_after_posting_the_card_is_recorded_at_start(opened, board: FakeBoard) -> None:
    services = await opened()
    intro = await services.intros.save(GUILD, ALICE, DRAFT)
    board.after_post = kill
    with pytest.raises(Killed):
        await publisher(services, board).publish(intro, CHANNEL)
    (stray,) = board.messages
    assert board.messages[stray].marker.startswith(f"member {ALICE} · card ")

    services = await opened()  # restart
    board.after_post = None
    report = await publisher(services, board).reconcile()
    assert (report.recorded, report.reposted) == (1, 0)
    recorded = await services.intros.get(GUILD, ALICE)
    assert recorded is not None and recorded.card == (CHANNEL, stray)
    assert await services.card_posts.pending() == []

    edited = await services.intros.save(
        GUILD, ALICE, IntroDraft(name="Alice B", country="France", topics="x")
    )
    await publisher(services, board).publish(edited, CHANNEL)
    assert list(board.messages) == [stray] and board.messages[stray].name == "Alice B"


async def test_a_new_post_settles_a_leftover_first_without_a_restart(opened, board: FakeBoard) -> None:
    services = await opened()
    intro = await services.intros.save(GUILD, ALICE, DRAFT)
    board.after_post = kill
    with pytest.raises(Killed):
        await publisher(services, board).publish(intro, CHANNEL)
    board.after_post = None
    stored = await publisher(services, board).publish(intro, CHANNEL)  # /intro edit before any reconcile
    assert len(board.messages) == 1 and stored.card == (CHANNEL, next(iter(board.messages)))


async def test_killed_before_the_card_arrived_it_is_posted_at_start(opened, board: FakeBoard) -> None:
    services = await opened()
    intro = await services.intros.save(GUILD, ALICE, DRAFT)
    board.before_post = kill
    with pytest.raises(Killed):
        await publisher(services, board).publish(intro, CHANNEL)
    assert board.messages == {} and len(await services.card_posts.pending()) == 1

    services = await opened()
    board.before_post = None
    report = await publisher(services, board).reconcile()
    assert (report.recorded, report.reposted) == (0, 1)
    (posted,) = board.messages
    recorded = await services.intros.get(GUILD, ALICE)
    assert recorded is not None and recorded.card == (CHANNEL, posted)
    assert await services.card_posts.pending() == []


async def test_a_card_whose_introduction_was_deleted_meanwhile_is_removed_at_start(
    opened, board: FakeBoard
) -> None:
    services = await opened()
    intro = await services.intros.save(GUILD, ALICE, DRAFT)
    board.after_post = kill
    with pytest.raises(Killed):
        await publisher(services, board).publish(intro, CHANNEL)
    await services.intros.delete(GUILD, ALICE)

    services = await opened()
    report = await publisher(services, board).reconcile()
    assert report.removed == 1 and board.messages == {}
    assert await services.card_posts.pending() == []


async def test_discord_down_at_start_keeps_the_row_for_later(opened, board: FakeBoard) -> None:
    services = await opened()
    intro = await services.intros.save(GUILD, ALICE, DRAFT)
    board.after_post = kill
    with pytest.raises(Killed):
        await publisher(services, board).publish(intro, CHANNEL)
    services = await opened()
    board.after_post, board.find_fails = None, True
    assert (await publisher(services, board).reconcile()).unresolved == 1
    with pytest.raises(CardError):  # posting now could double the card: the member is asked to retry
        await publisher(services, board).publish(intro, CHANNEL)
    assert len(board.messages) == 1 and len(await services.card_posts.pending()) == 1
    board.find_fails = False
    assert (await publisher(services, board).reconcile()).recorded == 1


async def test_an_uncertain_failure_keeps_the_row_a_refusal_drops_it(opened, board: FakeBoard) -> None:
    services = await opened()
    intro = await services.intros.save(GUILD, ALICE, DRAFT)

    async def refused() -> None:
        raise CardError("Forbidden")

    async def timed_out() -> None:
        raise CardError("timeout", maybe_posted=True)

    board.before_post = refused
    with pytest.raises(CardError):
        await publisher(services, board).publish(intro, CHANNEL)
    assert await services.card_posts.pending() == []
    board.before_post = timed_out
    with pytest.raises(CardError):
        await publisher(services, board).publish(intro, CHANNEL)
    assert len(await services.card_posts.pending()) == 1


async def test_forget_me_deletes_a_card_still_being_posted_and_erases_the_row(
    opened, board: FakeBoard
) -> None:
    services = await opened()
    intro = await services.intros.save(GUILD, ALICE, DRAFT)
    board.after_post = kill
    with pytest.raises(Killed):
        await publisher(services, board).publish(intro, CHANNEL)
    described = await services.privacy.describe(ALICE)
    assert described["introduction cards being posted"] == [
        f"A card being posted in channel {CHANNEL} of server {GUILD} (since 2030-05-06 07:08 UTC)"
    ]
    stuck = await publisher(services, board).remove(ALICE, await services.intros.cards_of(ALICE))
    assert stuck == 0 and board.messages == {}
    erased = await services.privacy.forget(ALICE)
    assert erased["introductions"] == 1
    assert await services.card_posts.pending() == []


async def test_a_leftover_card_beside_a_recorded_one_leaves_one_card(opened, board: FakeBoard) -> None:
    services = await opened()
    await services.intros.save(GUILD, ALICE, DRAFT)
    await services.intros.set_card(GUILD, ALICE, CHANNEL, 1)
    board.messages[1] = Posted(CHANNEL, "", "Alice")
    post = await services.card_posts.begin(GUILD, ALICE, CHANNEL)  # a second post, killed after Discord
    board.messages[2] = Posted(CHANNEL, post.marker, "Alice")
    assert (await publisher(services, board).reconcile()).recorded == 1
    recorded = await services.intros.get(GUILD, ALICE)
    assert recorded is not None and recorded.card == (CHANNEL, 2) and list(board.messages) == [2]
