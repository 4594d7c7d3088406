"""Per-server settings: defaults without a row, validated updates, and how to fix a missing channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from peerbot.core.guild_settings import (
    GuildSettings,
    GuildSettingsError,
    GuildSettingsStore,
    missing_channel_message,
    resolve_timezone,
)
from peerbot.core.storage import Database

GUILD = 1000


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "db.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def settings(database: Database) -> GuildSettingsStore:
    return GuildSettingsStore(database)


async def count_rows(database: Database) -> int:
    return (await database.fetch_one("SELECT COUNT(*) FROM guild_settings"))[0]


async def test_an_unset_server_gets_the_defaults_without_a_write(
    settings: GuildSettingsStore, database: Database
) -> None:
    got = await settings.get(GUILD)
    assert got == GuildSettings(
        guild_id=GUILD,
        introductions_channel_id=None,
        announcements_channel_id=None,
        editor_role_id=None,
        welcome_enabled=True,
        timezone="UTC",
        erase_on_leave=False,
    )
    assert got.tzinfo == ZoneInfo("UTC")
    assert await count_rows(database) == 0


async def test_update_changes_only_what_is_given_and_persists(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    database = await Database.open(path)
    store = GuildSettingsStore(database)
    first = await store.update(GUILD, introductions_channel_id=111, erase_on_leave=True)
    assert first.introductions_channel_id == 111 and first.erase_on_leave is True
    second = await store.update(GUILD, welcome_enabled=False, timezone="Europe/Paris")
    assert second.introductions_channel_id == 111 and second.erase_on_leave is True
    assert second.welcome_enabled is False and second.timezone == "Europe/Paris"
    cleared = await store.update(GUILD, introductions_channel_id=None)
    assert cleared.introductions_channel_id is None
    await database.close()

    reopened = await Database.open(path)
    try:
        stored = await GuildSettingsStore(reopened).get(GUILD)
        assert stored == cleared
        assert await GuildSettingsStore(reopened).get(GUILD + 1) == GuildSettings(GUILD + 1)
        assert await count_rows(reopened) == 1
    finally:
        await reopened.close()


async def test_timezone_is_canonicalised(settings: GuildSettingsStore) -> None:
    updated = await settings.update(GUILD, timezone="  america/mexico_city ")
    assert updated.timezone == "America/Mexico_City"
    assert updated.tzinfo == ZoneInfo("America/Mexico_City")


@pytest.mark.parametrize("name", ["Paris", "Mars/Olympus_Mons", "", "../../etc/passwd", 5])
async def test_a_bad_timezone_is_refused_with_an_example(
    settings: GuildSettingsStore, database: Database, name: object
) -> None:
    with pytest.raises(GuildSettingsError, match=r"Unknown time zone .* such as Europe/Paris"):
        await settings.update(GUILD, timezone=name, welcome_enabled=False)
    assert await count_rows(database) == 0
    assert (await settings.get(GUILD)).welcome_enabled is True


async def test_unknown_settings_are_refused(settings: GuildSettingsStore, database: Database) -> None:
    with pytest.raises(GuildSettingsError, match=r"Unknown setting.*colour.*Known:.*erase_on_leave"):
        await settings.update(GUILD, colour="blue", welcome_enabled=False)
    with pytest.raises(GuildSettingsError, match="guild_id"):
        await settings.update(GUILD, guild_id=5)
    assert await count_rows(database) == 0


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"welcome_enabled": "yes"}, "true or false"),
        ({"erase_on_leave": 1}, "true or false"),
        ({"editor_role_id": True}, "Discord id"),
        ({"announcements_channel_id": -4}, "Discord id"),
        ({"introductions_channel_id": "123"}, "Discord id"),
    ],
)
async def test_badly_typed_values_are_refused(
    settings: GuildSettingsStore, database: Database, changes: dict, problem: str
) -> None:
    with pytest.raises(GuildSettingsError, match=problem):
        await settings.update(GUILD, **changes)
    assert await count_rows(database) == 0


async def test_servers_are_independent(settings: GuildSettingsStore) -> None:
    await settings.update(GUILD, announcements_channel_id=9, editor_role_id=8)
    other = await settings.get(GUILD + 1)
    assert other.announcements_channel_id is None and other.editor_role_id is None
    assert (await settings.get(GUILD)).editor_role_id == 8


def test_missing_channel_message_says_how_to_set_it() -> None:
    message = missing_channel_message("introductions")
    assert "An admin can set it with /setup introductions_channel:#channel" in message
    assert "/setup announcements_channel:#channel" in missing_channel_message("announcements")
    with pytest.raises(ValueError, match="unknown channel kind"):
        missing_channel_message("memes")


def test_an_unknown_zone_is_echoed_back_bounded() -> None:
    """A pasted 3,000-character zone must not make a reply over Discord's 2,000 characters."""
    with pytest.raises(GuildSettingsError) as refused:
        resolve_timezone("Mars/" + "x" * 3000)
    assert len(str(refused.value)) < 300 and "Mars/xxx" in str(refused.value)
