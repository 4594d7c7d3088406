"""Introductions: validation with named limits, literal storage, fuzzy peer search and matching."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from peerbot.core.intros import (
    FIELD_LIMITS,
    INTRO_CONSORTIA,
    IntroDraft,
    IntroError,
    IntroStore,
    resolve_consortium,
    validate_draft,
)
from peerbot.core.storage import Database
from peerbot.core.storage.migrations import MIGRATIONS

GUILD = 1000
OTHER_GUILD = 2000


class FakeClock:
    """Each reading is one minute after the previous, so created/updated times differ visibly."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "db.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def store(database: Database) -> IntroStore:
    return IntroStore(database, clock=FakeClock())


def draft(**changes: str | None) -> IntroDraft:
    base = IntroDraft(
        name="Ana Pérez",
        organisation="Cooperativa Sur",
        country="Spain",
        topics="social impact measurement",
        offer_seek="Can share our indicator framework",
        consortium=None,
    )
    return replace(base, **changes)


async def count_rows(database: Database) -> int:
    return (await database.fetch_one("SELECT COUNT(*) FROM introduction"))[0]


# --- saving, updating and validation ---------------------------------------------------------------


async def test_save_get_and_update_keep_one_row_and_the_card(store: IntroStore, database: Database) -> None:
    first = await store.save(GUILD, 7, draft(consortium="rrr"))
    assert first.consortium == "UpSocial / RRR"
    assert first.created_at == first.updated_at and first.created_at.tzinfo is not None
    with_card = await store.set_card(GUILD, 7, 555, 666)
    assert with_card is not None and with_card.card == (555, 666)

    second = await store.save(GUILD, 7, draft(topics="circular economy", consortium=None))
    assert await count_rows(database) == 1
    assert second.topics == "circular economy" and second.consortium is None
    assert (second.card_channel_id, second.card_message_id) == (555, 666)
    assert second.created_at == first.created_at and second.updated_at > first.updated_at
    assert await store.get(GUILD, 7) == second
    assert await store.get(OTHER_GUILD, 7) is None


async def test_set_card_for_a_missing_intro_and_half_ids(store: IntroStore) -> None:
    assert await store.set_card(GUILD, 99, 1, 2) is None
    await store.save(GUILD, 7, draft())
    with pytest.raises(ValueError, match="both"):
        await store.set_card(GUILD, 7, 1, None)
    await store.set_card(GUILD, 7, 1, 2)
    cleared = await store.set_card(GUILD, 7, None, None)
    assert cleared is not None and cleared.card is None


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("name", "", "Name is empty; give 1-80 characters"),
        ("name", "   \u200b\n ", "Name is empty; give 1-80 characters"),
        ("name", "n" * 81, "Name is 81 characters; the limit is 80"),
        ("organisation", "o" * 101, "Organisation is 101 characters; the limit is 100"),
        ("country", "", "Country is empty; give 1-60 characters"),
        ("country", "c" * 61, "Country is 61 characters; the limit is 60"),
        ("topics", "", "What I work on is empty; give 1-300 characters"),
        ("topics", "t" * 412, "What I work on is 412 characters; the limit is 300"),
        ("offer_seek", "x" * 501, "What I can offer / am looking for is 501 characters; the limit is 500"),
        ("name", "Ana\nPérez", "Name must be on one line"),
        ("topics", "impact\x00measurement", "What I work on must be plain text"),
    ],
)
async def test_each_limit_is_refused_with_the_limit_named(
    store: IntroStore, database: Database, field: str, value: str, problem: str
) -> None:
    bad = draft(**{field: value})
    assert validate_draft(bad) == [problem]
    with pytest.raises(IntroError) as caught:
        await store.save(GUILD, 7, bad)
    assert caught.value.problems == [problem]
    assert await count_rows(database) == 0


async def test_an_invalid_update_leaves_the_saved_intro_alone(store: IntroStore) -> None:
    saved = await store.save(GUILD, 7, draft())
    with pytest.raises(IntroError):
        await store.save(GUILD, 7, draft(topics="t" * 301))
    assert await store.get(GUILD, 7) == saved


async def test_values_at_the_limits_are_accepted(store: IntroStore) -> None:
    at_limit = {key: "é" * limit.maximum for key, limit in FIELD_LIMITS.items()}
    saved = await store.save(GUILD, 7, IntroDraft(**at_limit))
    for key, limit in FIELD_LIMITS.items():
        assert len(getattr(saved, key)) == limit.maximum
    minimal = await store.save(GUILD, 8, IntroDraft(name="A", country="B", topics="C"))
    assert (minimal.organisation, minimal.offer_seek, minimal.consortium) == ("", "", None)


async def test_several_problems_are_reported_together() -> None:
    problems = validate_draft(IntroDraft(name="", country="c" * 70, topics="ok", consortium="atlantis"))
    assert problems[0] == "Name is empty; give 1-80 characters"
    assert problems[1] == "Country is 70 characters; the limit is 60"
    assert "Consortium 'atlantis' is not one of" in problems[2]
    assert all(name in problems[2] for name in INTRO_CONSORTIA)


async def test_markup_mentions_and_sql_are_stored_literally(store: IntroStore, database: Database) -> None:
    tricky = draft(
        name="**Bold** _Ana_ `x`",
        organisation="@everyone",
        country="<@123>",
        topics="'); DROP TABLE introduction; --",
        offer_seek="Ping <@123> or @here > quote\n- list item",
    )
    await store.save(GUILD, 7, tricky)
    saved = await store.get(GUILD, 7)
    assert saved is not None
    assert saved.name == "**Bold** _Ana_ `x`"
    assert saved.organisation == "@everyone"
    assert saved.country == "<@123>"
    assert saved.topics == "'); DROP TABLE introduction; --"
    assert saved.offer_seek == "Ping <@123> or @here > quote\n- list item"
    table = await database.fetch_one("SELECT name FROM sqlite_master WHERE name = 'introduction'")
    assert table is not None and await count_rows(database) == 1


async def test_unicode_emoji_and_zero_width(store: IntroStore) -> None:
    saved = await store.save(
        GUILD,
        7,
        draft(
            name="  Zoë 👩🏽\u200d💻 Łukasiewicz\u200b ",
            organisation="\u200bانجمن می\u200cخواهم",
            topics="\ufeffimpact\u200b measurement 🌱\n",
        ),
    )
    # Zero-width spaces go; the joiners inside the emoji and the Persian word are spelling, so they stay.
    assert saved.name == "Zoë 👩🏽\u200d💻 Łukasiewicz"
    assert saved.organisation == "انجمن می\u200cخواهم"
    assert saved.topics == "impact measurement 🌱"
    with pytest.raises(IntroError, match="Name is empty"):
        await store.save(GUILD, 8, draft(name="\u200d\u200c "))
    found = await store.search(GUILD, topic="impact measurement")
    assert [m.intro.member_id for m in found.items] == [7]


@pytest.mark.parametrize(
    ("loose", "canonical"),
    [
        ("rrr", "UpSocial / RRR"),
        ("French impact", "French Impact"),
        ("  PL4SE ", "CEPES / PL4SE"),
        ("silk", "DIESIS / SILK"),
        ("frnch impact", "French Impact"),
        ("", None),
        (None, None),
    ],
)
def test_consortium_is_resolved_loosely(loose: str | None, canonical: str | None) -> None:
    assert resolve_consortium(loose) == canonical


@pytest.mark.parametrize(("name", "problem"), [("general", "is not one of"), ("impact", "could be")])
def test_general_unknown_and_ambiguous_consortia_are_refused(name: str, problem: str) -> None:
    with pytest.raises(IntroError, match=problem):
        resolve_consortium(name)


def test_general_is_not_offered_to_members() -> None:
    assert "General" not in INTRO_CONSORTIA and len(INTRO_CONSORTIA) == 6


async def test_the_database_refuses_overlong_rows_even_past_python(database: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await database.execute(
            "INSERT INTO introduction (guild_id, member_id, name, country, topics, created_at, updated_at) "
            "VALUES (1, 1, ?, 'x', 'y', 't', 't')",
            ("n" * 81,),
        )


# --- search ------------------------------------------------------------------------------------------


async def seed(store: IntroStore) -> None:
    await store.save(GUILD, 1, draft(topics="Social impact measurement", country="México", consortium="rrr"))
    await store.save(GUILD, 2, draft(topics="Housing cooperatives", country="France", consortium="silk"))
    await store.save(GUILD, 3, draft(topics="Youth employment", country="Austria", offer_seek=""))
    seeking = "Looking for impact investors"
    await store.save(GUILD, 4, draft(topics="Public procurement", country="Morocco", offer_seek=seeking))
    await store.save(OTHER_GUILD, 5, draft(topics="Social impact measurement", country="Mexico"))


async def test_topic_search_is_typo_tolerant(store: IntroStore) -> None:
    await seed(store)
    page = await store.search(GUILD, topic="impact measurment")
    assert [m.intro.member_id for m in page.items] == [1]
    assert page.total == 1
    assert page.items[0].overlap == ["impact", "measurement"]
    assert page.items[0].score > 90


async def test_topic_search_reads_offer_seek_and_prefixes(store: IntroStore) -> None:
    await seed(store)
    investors = await store.search(GUILD, topic="investor")
    assert [m.intro.member_id for m in investors.items] == [4]
    coops = await store.search(GUILD, topic="cooperative")
    assert [m.intro.member_id for m in coops.items] == [2]


async def test_unrelated_topic_returns_nobody(store: IntroStore) -> None:
    await seed(store)
    page = await store.search(GUILD, topic="blockchain aquaculture")
    assert page.items == [] and page.total == 0
    # half the query in common is not enough: "impact investors" is not about impact measurement
    assert (await store.search(GUILD, topic="housing blockchain")).total == 0


async def test_country_search_folds_accents_and_tolerates_one_typo(store: IntroStore) -> None:
    await seed(store)
    mexico = await store.search(GUILD, country="Mexico")
    assert [m.intro.member_id for m in mexico.items] == [1]  # not Morocco, not the other server
    assert [m.intro.member_id for m in (await store.search(GUILD, country="méxico")).items] == [1]
    assert [m.intro.member_id for m in (await store.search(GUILD, country="Frnace")).items] == [2]
    assert (await store.search(GUILD, country="Australia")).total == 0  # Austria is another country


async def test_an_exact_country_hides_near_spellings(store: IntroStore) -> None:
    await store.save(GUILD, 1, draft(country="Zambia"))
    await store.save(GUILD, 2, draft(country="Gambia"))
    assert [m.intro.member_id for m in (await store.search(GUILD, country="Gambia")).items] == [2]


async def test_consortium_search_resolves_then_filters_exactly(store: IntroStore) -> None:
    await seed(store)
    page = await store.search(GUILD, consortium="RRR")
    assert [m.intro.member_id for m in page.items] == [1]
    assert (await store.search(GUILD, consortium="social value")).total == 0
    with pytest.raises(IntroError, match="not one of"):
        await store.search(GUILD, consortium="atlantis")


async def test_filters_combine(store: IntroStore) -> None:
    await seed(store)
    assert [m.intro.member_id for m in (await store.search(GUILD, topic="impact")).items] == [1, 4]
    both = await store.search(GUILD, topic="impact", country="Morocco")
    assert [m.intro.member_id for m in both.items] == [4]


async def test_pagination_and_deterministic_ties(store: IntroStore) -> None:
    for member in (50, 10, 30, 20, 40):
        await store.save(GUILD, member, draft(topics="circular economy"))
    first = await store.search(GUILD, topic="circular economy", limit=2)
    assert first.total == 5
    assert [m.intro.member_id for m in first.items] == [10, 20]
    second = await store.search(GUILD, topic="circular economy", limit=2, offset=2)
    assert [m.intro.member_id for m in second.items] == [30, 40]
    last = await store.search(GUILD, topic="circular economy", limit=2, offset=4)
    assert [m.intro.member_id for m in last.items] == [50] and last.total == 5
    beyond = await store.search(GUILD, topic="circular economy", limit=2, offset=10)
    assert beyond.items == [] and beyond.total == 5


async def test_better_matches_come_first(store: IntroStore) -> None:
    await store.save(GUILD, 1, draft(topics="measurment of impact", offer_seek=""))
    await store.save(GUILD, 2, draft(topics="social impact measurement", offer_seek=""))
    page = await store.search(GUILD, topic="impact measurement")
    assert [m.intro.member_id for m in page.items] == [2, 1]
    assert page.items[0].score > page.items[1].score


async def test_no_filter_lists_everyone_in_the_server(store: IntroStore) -> None:
    await seed(store)
    page = await store.search(GUILD)
    assert [m.intro.member_id for m in page.items] == [1, 2, 3, 4] and page.total == 4


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"topic": "the of and"}, "no words to search"),
        ({"topic": "t" * 301}, "the limit is 300"),
        ({"country": "!!!"}, "no letters"),
        ({"limit": 0}, "1-25"),
        ({"limit": 26}, "1-25"),
        ({"offset": -1}, "negative"),
    ],
)
async def test_bad_searches_are_explained(store: IntroStore, arguments: dict, problem: str) -> None:
    with pytest.raises(IntroError, match=problem):
        await store.search(GUILD, **arguments)


# --- matching ----------------------------------------------------------------------------------------


async def test_match_finds_topic_peers_with_the_shared_words(store: IntroStore) -> None:
    await store.save(GUILD, 1, draft(topics="impact measurement, circular economy, public procurement"))
    await store.save(GUILD, 2, draft(topics="impact measurement and public procurement"))
    await store.save(GUILD, 3, draft(topics="circular economy"))
    await store.save(GUILD, 4, draft(topics="measurment of impact"))
    await store.save(GUILD, 5, draft(topics="housing cooperatives"))
    await store.save(GUILD, 6, draft(topics="public procurement"))
    await store.save(OTHER_GUILD, 7, draft(topics="impact measurement, circular economy, public procurement"))

    matches = await store.match(GUILD, 1)
    assert [m.intro.member_id for m in matches] == [2, 3, 4]  # rarer shared words weigh more
    assert matches[0].overlap == ["impact", "measurement", "public", "procurement"]
    assert matches[1].overlap == ["circular", "economy"]
    assert matches[2].overlap == ["impact", "measurement"]  # "measurment" is near-identical
    assert matches[0].score > matches[1].score > matches[2].score
    assert all(m.intro.member_id != 1 for m in await store.match(GUILD, 1, limit=10))
    assert len(await store.match(GUILD, 1, limit=10)) == 4  # 5 shares nothing


async def test_match_without_an_introduction_or_peers(store: IntroStore) -> None:
    with pytest.raises(IntroError, match="Introduce yourself first"):
        await store.match(GUILD, 1)
    await store.save(GUILD, 1, draft())
    assert await store.match(GUILD, 1) == []


# --- deleting and leaving ----------------------------------------------------------------------------


async def test_delete_returns_the_intro_for_its_card(store: IntroStore, database: Database) -> None:
    await store.save(GUILD, 7, draft())
    await store.set_card(GUILD, 7, 11, 12)
    deleted = await store.delete(GUILD, 7)
    assert deleted is not None and deleted.card == (11, 12)
    assert await store.get(GUILD, 7) is None and await count_rows(database) == 0
    assert await store.delete(GUILD, 7) is None


async def test_member_left_follows_the_server_choice(store: IntroStore) -> None:
    await store.save(GUILD, 7, draft())
    await store.save(GUILD, 8, draft())
    assert await store.member_left(GUILD, 7, erase=False) is None
    assert await store.get(GUILD, 7) is not None
    erased = await store.member_left(GUILD, 8, erase=True)
    assert erased is not None and erased.member_id == 8
    assert await store.get(GUILD, 8) is None
    assert [intro.member_id for intro in await store.all_for_guild(GUILD)] == [7]


async def test_cards_and_forget_span_every_server(store: IntroStore) -> None:
    await store.save(GUILD, 7, draft())
    await store.save(OTHER_GUILD, 7, draft())
    await store.save(GUILD, 8, draft())
    await store.set_card(GUILD, 7, 1, 2)
    await store.set_card(OTHER_GUILD, 7, 3, 4)
    await store.set_card(GUILD, 8, 5, 6)
    assert await store.cards_of(7) == [(1, 2), (3, 4)]
    removed = await store.forget_member(7)
    assert [intro.guild_id for intro in removed] == [GUILD, OTHER_GUILD]
    assert await store.cards_of(7) == []
    assert await store.get(GUILD, 8) is not None


# --- schema upgrade ----------------------------------------------------------------------------------


async def test_version_1_database_is_upgraded_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    old = await Database.open(path, migrations=MIGRATIONS[:1])
    await old.execute(
        "INSERT INTO unanswered_question (question, outcome, guild_id, asked_at) VALUES (?, ?, ?, ?)",
        ("what is rrr?", "declined", 42, "2024-01-01T00:00:00+00:00"),
    )
    assert await old.schema_version() == 1
    await old.close()

    upgraded = await Database.open(path)
    try:
        assert await upgraded.schema_version() == len(MIGRATIONS) >= 2
        row = await upgraded.fetch_one("SELECT question, guild_id FROM unanswered_question")
        assert tuple(row) == ("what is rrr?", 42)
        saved = await IntroStore(upgraded).save(GUILD, 7, draft())
        assert saved.member_id == 7
        rows = await upgraded.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {r[0] for r in rows}
        assert {"introduction", "guild_settings", "unanswered_question"} <= tables
    finally:
        await upgraded.close()


async def test_search_index_follows_every_write(store: IntroStore) -> None:
    """The in-memory index is built on the first search and kept in step, never stale."""
    await store.save(GUILD, 1, draft(topics="social procurement"))
    assert (await store.search(GUILD, topic="procurement")).total == 1  # builds the index
    await store.save(GUILD, 2, draft(name="Bea", topics="procurement for cities"))
    assert [m.intro.member_id for m in (await store.search(GUILD, topic="procurement")).items] == [1, 2]
    await store.save(GUILD, 1, draft(topics="impact measurement"))  # edited: no longer about procurement
    assert [m.intro.member_id for m in (await store.search(GUILD, topic="procurement")).items] == [2]
    await store.set_card(GUILD, 2, 10, 20)
    (found,) = (await store.search(GUILD, topic="procurement")).items
    assert found.intro.card == (10, 20)
    await store.delete(GUILD, 2)
    assert (await store.search(GUILD, topic="procurement")).total == 0
    await store.forget_member(1)
    assert (await store.search(GUILD)).total == 0


async def test_200_concurrent_saves_are_all_stored(store: IntroStore) -> None:
    import asyncio

    async def save(member_id: int) -> None:
        await store.save(GUILD, member_id, draft(name=f"Member {member_id}", topics=f"topic {member_id}"))

    await asyncio.gather(*(save(member_id) for member_id in range(1, 201)))
    stored = await store.all_for_guild(GUILD)
    assert [intro.member_id for intro in stored] == list(range(1, 201))
    assert (await store.search(GUILD, limit=25)).total == 200
