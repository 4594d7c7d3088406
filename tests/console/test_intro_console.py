"""/intro, /peers, /privacy and /setup in the terminal chat, driven by lines of input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_helpers import converse

from peerbot.console.chat import LOCAL_GUILD_ID, LOCAL_MEMBER_ID
from peerbot.console.commands.intros import parse_filters
from peerbot.core.intros import IntroDraft
from peerbot.core.permissions import Actor
from peerbot.core.services import Services

# name, organisation, country, topics, offer/seek, consortium, then the answer to "Post?"
ALICE_FORM = ["Alice Martin", "Coop Lumière", "France", "impact measurement, cooperatives", "", "rrr", "y"]


@pytest.fixture
async def services(tmp_path: Path, sample_dir: Path) -> AsyncIterator[Services]:
    opened = await Services.open(sample_dir, tmp_path / "db.sqlite3")
    yield opened
    await opened.close()


async def add_peer(
    services: Services, member_id: int, name: str, topics: str, country: str = "Spain"
) -> None:
    await services.intros.save(
        LOCAL_GUILD_ID, member_id, IntroDraft(name=name, country=country, topics=topics)
    )


async def test_intro_asks_each_field_with_its_limit_previews_then_posts(services: Services) -> None:
    output = await converse(services, "/intro", *ALICE_FORM, "/intro show")
    assert "Name (1-80 characters): " in output
    assert "Organisation (up to 100 characters, optional): " in output
    assert "What I work on (1-300 characters): " in output
    preview, posted = output.split("Post? [y/n] ")
    assert "This is how your card will look:\n== Alice Martin ==" in preview
    assert "Consortium: UpSocial / RRR" in preview
    assert posted.startswith("Posted:\n== Alice Martin ==")
    assert posted.count("== Alice Martin ==") == 2  # posted, then /intro show
    intro = await services.intros.get(LOCAL_GUILD_ID, LOCAL_MEMBER_ID)
    assert intro is not None and intro.topics == "impact measurement, cooperatives"


async def test_overlong_and_empty_fields_are_refused_with_the_limit_and_asked_again(
    services: Services,
) -> None:
    output = await converse(
        services,
        "/intro",
        "",
        "   ",
        "x" * 81,
        "Alice",
        "o" * 101,
        "",
        "France",
        "t" * 301,
        "coops",
        "",
        "",
        "y",
    )
    assert output.count("Name is empty; give 1-80 characters") == 2
    assert "Name is 81 characters; the limit is 80" in output
    assert "Organisation is 101 characters; the limit is 100" in output
    assert "What I work on is 301 characters; the limit is 300" in output
    intro = await services.intros.get(LOCAL_GUILD_ID, LOCAL_MEMBER_ID)
    assert intro is not None and (intro.name, intro.organisation, intro.topics) == ("Alice", "", "coops")


async def test_editing_keeps_empty_answers_clears_with_a_dash_and_updates(services: Services) -> None:
    await converse(services, "/intro", *ALICE_FORM)
    output = await converse(services, "/intro edit", "", "-", "", "cooperatives and housing", "", "", "y")
    assert "Editing your introduction." in output
    assert "Enter keeps 'Alice Martin'" in output and "'-' empties it" in output
    assert "Updated:\n== Alice Martin ==" in output
    intro = await services.intros.get(LOCAL_GUILD_ID, LOCAL_MEMBER_ID)
    assert intro is not None
    assert (intro.organisation, intro.topics, intro.consortium) == (
        "",
        "cooperatives and housing",
        "UpSocial / RRR",
    )


async def test_answering_no_or_ending_the_input_saves_nothing(services: Services) -> None:
    declined = await converse(services, "/intro", *ALICE_FORM[:-1], "n")
    assert "Not posted: nothing was saved." in declined
    ended = await converse(services, "/intro", "Alice", "Coop")
    assert "Cancelled: nothing was changed." in ended
    assert await services.intros.get(LOCAL_GUILD_ID, LOCAL_MEMBER_ID) is None


async def test_unknown_consortium_is_explained_and_asked_again(services: Services) -> None:
    output = await converse(services, "/intro", *ALICE_FORM[:5], "atlantis", "french impact", "y")
    assert "Consortium 'atlantis' is not one of:" in output
    assert "Consortium: French Impact" in output


async def test_markdown_mentions_and_sql_are_stored_and_shown_literally(services: Services) -> None:
    name = "**Bob** @everyone <@123>"
    sql = "'); DROP TABLE introduction; --"
    output = await converse(
        services, "/intro", name, sql, "Korea", "social finance", "", "", "y", "/intro show"
    )
    assert output.count(f"== {name} ==") == 3
    assert f"Organisation: {sql}" in output
    intro = await services.intros.get(LOCAL_GUILD_ID, LOCAL_MEMBER_ID)
    assert intro is not None and (intro.name, intro.organisation) == (name, sql)


async def test_intro_delete_asks_first(services: Services) -> None:
    await converse(services, "/intro", *ALICE_FORM)
    kept = await converse(services, "/intro delete", "n")
    assert "Cancelled: nothing was changed." in kept
    deleted = await converse(services, "/intro delete", "y", "/intro show")
    assert "Delete your introduction? This cannot be undone. [y/n] Introduction deleted." in deleted
    assert "You have no introduction yet. Use /intro create to write one." in deleted


async def test_deleting_someone_elses_intro_is_refused_with_the_reason(services: Services) -> None:
    await add_peer(services, 42, "Dana", "cooperatives")
    output = await converse(services, "/intro delete 42", actor=Actor(7, "guest"))
    assert (
        "Sorry, you can delete only your own introduction. Editors (members with the Manage Server" in output
    )
    assert await services.intros.get(LOCAL_GUILD_ID, 42) is not None
    as_editor = await converse(services, "/intro delete 42", "y")  # the terminal's user is an editor
    assert "Delete member 42's introduction?" in as_editor and "Introduction deleted." in as_editor


@pytest.mark.parametrize(
    ("text", "filters"),
    [
        ("impact measurement", {"topic": "impact measurement"}),
        ("topic=social finance country=South Korea", {"topic": "social finance", "country": "South Korea"}),
        ("coops consortium=rrr page=2", {"topic": "coops", "consortium": "rrr", "page": "2"}),
        ("", {}),
    ],
)
def test_peers_filters(text: str, filters: dict[str, str]) -> None:
    assert parse_filters(text) == filters


async def test_peers_search_pages_and_match(services: Services) -> None:
    await converse(services, "/intro", *ALICE_FORM)
    for member in range(2, 9):
        await add_peer(services, member, f"Peer {member}", f"cooperatives and housing {member}")
    await add_peer(services, 20, "Eve", "impact measurement of social enterprises", country="France")
    output = await converse(
        services,
        "/peers impact measurment",
        "/peers",
        "/peers page=2",
        "/peers search country=Frnace",
        "/peers match",
        "/peers consortium=atlantis",
    )
    assert "Peers 1-2 of 2:\n1) Alice Martin" in output
    assert "Matched: impact, measurement" in output
    assert "Peers 1-5 of 9:" in output and "(page 1 of 2: add page=2 to see more)" in output
    assert "Peers 6-9 of 9:\n6) " in output
    assert "Peers who work on what you work on:" in output and "Shared topics: cooperative" in output
    assert "Consortium 'atlantis' is not one of:" in output


async def test_peers_match_without_an_introduction(services: Services) -> None:
    output = await converse(services, "/peers match", "/peers nothing-like-this")
    assert "Introduce yourself first" in output
    assert "Nobody matches that yet." in output


async def test_privacy_show_and_forget_me(services: Services) -> None:
    await converse(services, "/intro", *ALICE_FORM)
    output = await converse(services, "/privacy show", "/privacy forget-me", "n", "/privacy forget-me", "y")
    assert "Introductions:\n  Introduction in server 1" in output and "Name: Alice Martin" in output
    assert "Cancelled: nothing was changed." in output
    assert "Done: erased introductions (1)." in output
    assert "PeerBot stores nothing about you." in await converse(services, "/privacy show")


async def test_setup_shows_and_changes_settings(services: Services) -> None:
    output = await converse(
        services,
        "/setup show",
        "/setup timezone europe/paris",
        "/setup timezone Mars/Base",
        "/setup welcome off",
        "/setup erase_on_leave maybe",
        "/setup colour blue",
    )
    assert "PeerBot settings:\nIntroductions channel: not set" in output
    assert "Settings saved." in output and "Time zone: Europe/Paris" in output
    assert "Nothing was changed: Unknown time zone 'Mars/Base'" in output
    assert "Welcome new members: off" in output
    assert "Nothing was changed: erase_on_leave takes on or off, not 'maybe'" in output
    assert "Usage: /setup show, or /setup <option> <value>" in output
    settings = await services.guild_settings.get(LOCAL_GUILD_ID)
    assert (settings.timezone, settings.welcome_enabled) == ("Europe/Paris", False)


async def test_setup_changes_are_for_editors(services: Services) -> None:
    output = await converse(services, "/setup timezone Europe/Paris", actor=Actor(7, "guest"))
    assert "Sorry, only editors can do that" in output
    assert (await services.guild_settings.get(LOCAL_GUILD_ID)).timezone == "UTC"


async def test_help_lists_the_intro_commands(services: Services) -> None:
    output = await converse(services, "/help")
    assert "/intro create, /intro edit" in output and "/peers match" in output and "/privacy show" in output
