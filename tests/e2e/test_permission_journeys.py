"""What Discord shows to whom: editor commands carry Manage Server as their default permission, so
the Discord client hides them from members (server owners can grant them to the editor role in
Server Settings > Integrations), and the bot's own refusal still guards them and reads cleanly.

The bot of this module runs on a COPY of the knowledge directory (a journey opens a removal).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import BotProcess
from fake_discord import FakeDiscord
from fake_discord.records import walk_components

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
MANAGE_GUILD = str(1 << 5)
EDITOR_COMMANDS = {"kb", "setup", "event"}
# Discord's default permission covers a whole top-level command: the editors' /event (create, edit,
# cancel) is hidden from members, the members' /events (list, show, ics) is not.
MEMBER_COMMANDS = {"ask", "topics", "help", "intro", "peers", "privacy", "events"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    directory = tmp_path_factory.mktemp("permissions")
    shutil.copytree(BUNDLED_KNOWLEDGE, directory / "knowledge")
    process = BotProcess(fake, directory, extra_env={"PEERBOT_KNOWLEDGE_DIR": str(directory / "knowledge")})
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


async def test_editor_commands_default_to_manage_server_and_member_commands_to_everyone(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    commands = {command["name"]: command for command in fake.commands}
    assert set(commands) >= EDITOR_COMMANDS | MEMBER_COMMANDS, sorted(commands)
    for name in EDITOR_COMMANDS:
        assert commands[name]["default_member_permissions"] == MANAGE_GUILD, name
    for name in MEMBER_COMMANDS:
        assert commands[name]["default_member_permissions"] is None, name


async def test_the_bot_still_refuses_a_member_who_was_granted_the_command(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    # Discord would hide /kb from alice; an admin may still allow it for her in Integrations.
    reply = await (await fake.invoke_slash("kb gaps", user="alice")).response()
    assert reply.ephemeral and "only editors can do that" in reply.data["content"]


async def test_a_removal_confirmed_after_losing_the_role_is_refused_in_plain_words(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    saved = await (
        await fake.invoke_slash("setup", {"editor_role": "Editor"}, user="carol")
    ).wait_for_message()
    assert "Settings saved." in saved.content
    prompt = await (
        await fake.invoke_slash("kb remove", {"id": "rrr-objectives"}, user="bob")
    ).wait_for_message()
    remove = next(c["custom_id"] for c in walk_components(prompt.components) if c.get("label") == "Remove")
    bob = fake.user("bob")
    roles, bob.roles = bob.roles, []  # an admin takes the Editor role away while the prompt is open
    try:
        clicked = await fake.click_button(prompt, remove, user="bob")
        await clicked.response()
        refused = await fake.wait_for_message(lambda m: m.id == prompt.id and "only editors" in m.content)
    finally:
        bob.roles = roles
    assert "\\" not in refused.content, refused.content
    assert "**Manage Server**" in refused.content and "**Editor** role" in refused.content
    assert refused.components == []
