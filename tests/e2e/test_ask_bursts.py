"""Many members asking at once, with Discord's 3-second window enforced by the fake.

An interaction not answered within ``INTERACTION_WINDOW_S`` is gone for good: its callback answers 404
"Unknown interaction" (code 10062) and the member sees "The application did not respond". The fake
expires them as Discord does, so a bot that writes to the database before answering is caught here:
the burst below is sent while another process holds the database's write lock, so any write made
before the reply waits (SQLite's busy timeout is longer than the window). Answers must not.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import RunningBot
from fake_discord import INTERACTION_WINDOW_S, FakeDiscord, InteractionHandle

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BURST = 100
ANSWERED = "What does RRR stand for?"  # counted as served (bundled knowledge: confident)
DECLINED = "what's the weather in Lisbon"  # logged as unanswered
HANG_GUARD = 30.0  # seconds: only keeps a broken bot from hanging the run; never a speed check


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(interaction_timeout=INTERACTION_WINDOW_S) as server:
        yield server


def database_of(bot: RunningBot) -> Path:
    return bot.log_path.parent / "data" / "peerbot.sqlite3"


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Another writer holds the database (a backup, a long migration, a slow disk): writes wait."""
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")


def count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as connection:
        return int(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def settled(fake: FakeDiscord, handles: list[InteractionHandle]) -> None:
    """Until every interaction was answered or expired (both are final after the window)."""
    await fake.recorder.wait_until(
        lambda: all(h.interaction.responded or h.expired for h in handles) or None,
        HANG_GUARD,
        lambda: f"{sum(not h.interaction.responded for h in handles)} interactions still open",
    )


async def wait_for_rows(path: Path, table: str, wanted: int) -> None:
    for _ in range(int(HANG_GUARD / 0.05)):
        if count(path, table) >= wanted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{table}: {count(path, table)} rows, expected {wanted}")


async def test_a_burst_is_answered_in_the_window_while_the_database_is_busy(
    fake: FakeDiscord, bot: RunningBot
) -> None:
    path = database_of(bot)
    served, unanswered = count(path, "answer_served"), count(path, "unanswered_question")
    with write_locked(path):
        handles = await asyncio.gather(
            *(
                fake.invoke_slash("ask", {"question": ANSWERED if n % 2 else DECLINED}, user="alice")
                for n in range(BURST)
            )
        )
        await settled(fake, handles)
    late = [h for h in handles if h.expired]
    assert late == [], f"{len(late)} of {BURST} answers came after Discord's window"
    assert all(h.interaction.callbacks[0]["type"] == 4 for h in handles)  # answered, not deferred
    # The bookkeeping waited for the lock, after the replies, and none of it was lost.
    await wait_for_rows(path, "answer_served", served + BURST // 2)
    await wait_for_rows(path, "unanswered_question", unanswered + BURST // 2)


async def test_an_expired_interaction_is_one_log_line_and_no_retry(
    fake: FakeDiscord, bot: RunningBot
) -> None:
    on_time = await fake.invoke_slash("ask", {"question": "tools"})
    answer = await on_time.wait_for_message()
    buttons = [i for i in answer.custom_ids() if i.startswith("peerbot:entry:")]
    fake.interaction_timeout = 0.0  # each of these expires before the bot can answer it
    try:
        expired = [
            await fake.invoke_slash("ask", {"question": ANSWERED}),
            await fake.invoke_slash("help"),
            await fake.send_autocomplete("ask", {"question": "Key dri"}, "question"),
            await fake.click_button(answer, buttons[0], user="bob"),
        ]
    finally:
        fake.interaction_timeout = INTERACTION_WINDOW_S
    for handle in expired:
        await bot.wait_for_log(f"Interaction {handle.id} ", within=HANG_GUARD)
    # A later command is answered normally: by then any retry of the expired ones would have been made.
    assert (await (await fake.invoke_slash("help")).response()).type == 4
    log = bot.log()
    for handle in expired:
        tried = [r for r in fake.requests if str(handle.id) in r.path or handle.interaction.token in r.path]
        assert [(r.status, (r.response or {}).get("code")) for r in tried] == [(404, 10062)], tried
        lines = [line for line in log.splitlines() if f"Interaction {handle.id} " in line]
        assert len(lines) == 1 and "expired" in lines[0], lines
    assert "Traceback" not in log


async def test_a_vote_while_the_database_is_busy_is_deferred_not_lost(
    fake: FakeDiscord, bot: RunningBot
) -> None:
    """A vote must be written before it is confirmed: slow, it is acknowledged in time, then answered."""
    answer = await (await fake.invoke_slash("ask", {"question": ANSWERED})).wait_for_message()
    helpful = next(i for i in answer.custom_ids() if i.startswith("peerbot:vote:up:"))
    path = database_of(bot)
    votes = count(path, "answer_vote")
    with write_locked(path):
        click = await fake.click_button(answer, helpful, user="carol")
        await settled(fake, [click])
        assert not click.expired
        assert (await click.response()).type == 5 and (await click.response()).ephemeral
    confirmed = await click.wait_for_message(timeout=HANG_GUARD)
    assert confirmed.ephemeral and "marked as helpful" in confirmed.content
    assert count(path, "answer_vote") == votes + 1
