"""Members introducing themselves through Discord: the real client, PeerBot in a subprocess, the fake.

The journeys run in order against one bot and share its database, like a server's first day: setup,
introductions, search, edits, deletions, a newcomer, a restart and a member who wants to be forgotten.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from conftest import BotProcess, pings_nobody
from fake_discord import FakeDiscord, InteractionHandle, SentMessage
from fake_discord.records import walk_components

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

START = "peerbot:intro:start"
POST, EDIT = "peerbot:intro:post", "peerbot:intro:edit"
CONFIRM = "peerbot:confirm:yes"
ALICE = {
    "name": "Alice Martin",
    "organisation": "Coopérative Lumière",
    "country": "France",
    "topics": "impact measurement for cooperatives, social procurement",
    "offer_seek": "I can share our SROI toolkit; looking for city partners",
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    process = BotProcess(fake, tmp_path_factory.mktemp("peerbot-intros"))
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


def cards(fake: FakeDiscord) -> list[SentMessage]:
    """Live introduction cards in #introductions."""
    return [m for m in fake.messages_in("introductions") if m.embeds and not m.deleted]


def text_inputs(modal: dict) -> dict[str, dict]:
    return {c["custom_id"]: c for c in walk_components(modal["components"]) if c.get("type") == 4}


async def introduce(
    fake: FakeDiscord, user: str, values: dict[str, str], command: str = "intro create", **options: str
) -> SentMessage:
    """Run the command, fill the modal, and return the private preview."""
    handle = await fake.invoke_slash(command, options or None, user=user)
    assert (await handle.response()).type == 9
    submitted = await fake.submit_modal(values, interaction=handle)
    return await submitted.wait_for_message()


async def post(fake: FakeDiscord, preview: SentMessage, user: str) -> InteractionHandle:
    clicked = await fake.click_button(preview, POST, user=user)
    await clicked.wait_for_message(lambda m: "Posted in" in m.content)
    return clicked


async def test_commands_synced(fake: FakeDiscord, bot: BotProcess) -> None:
    commands = {command["name"]: command for command in fake.commands}
    assert {"intro", "peers", "setup", "privacy"} <= set(commands)
    subs = {option["name"]: option for option in commands["intro"]["options"]}
    assert set(subs) == {"create", "edit", "show", "delete"}
    (consortium,) = subs["create"]["options"]
    assert len(consortium["choices"]) == 7  # the six PLPs and "No consortium"
    assert {option["name"] for option in commands["peers"]["options"]} == {"search", "match"}
    assert {option["name"] for option in commands["privacy"]["options"]} == {"show", "forget-me"}
    assert fake.unknown_routes == []


async def test_before_setup_intro_says_how_to_set_the_channel(fake: FakeDiscord, bot: BotProcess) -> None:
    reply = await (await fake.invoke_slash("intro create", user="alice")).wait_for_message()
    assert reply.ephemeral
    assert "/setup introductions_channel:#channel" in reply.content


async def test_setup_is_refused_for_alice_and_done_by_carol(fake: FakeDiscord, bot: BotProcess) -> None:
    refused = await (
        await fake.invoke_slash("setup", {"introductions_channel": "introductions"}, user="alice")
    ).wait_for_message()
    assert refused.ephemeral and "only editors" in refused.content and "Manage Server" in refused.content

    choices = await fake.autocomplete("setup", {"timezone": "paris"}, "timezone", user="carol")
    assert choices[0]["value"] == "Europe/Paris"

    handle = await fake.invoke_slash(
        "setup",
        {
            "introductions_channel": "introductions",
            "timezone": "Europe/Paris",
            "welcome": True,
            "editor_role": "Editor",
        },
        user="carol",
    )
    saved = await handle.wait_for_message()
    assert saved.ephemeral and "Settings saved." in saved.content
    assert "Time zone: Europe/Paris" in saved.text()
    assert f"<#{fake.channel('introductions').id}>" in saved.text()
    button = await fake.wait_for_message(lambda m: START in m.custom_ids(), channel="introductions")
    assert "Introduce yourself" in button.content

    shown = await (await fake.invoke_slash("setup", user="carol")).wait_for_message()
    assert "Welcome new members: on" in shown.text() and "Editor role: @Editor" in shown.text()
    bad = await (await fake.invoke_slash("setup", {"timezone": "Mars/Base"}, user="carol")).wait_for_message()
    assert bad.content.startswith("Nothing was changed: Unknown time zone 'Mars/Base'")


async def test_intro_modal_preview_then_post(fake: FakeDiscord, bot: BotProcess) -> None:
    handle = await fake.invoke_slash("intro create", {"consortium": "UpSocial / RRR"}, user="alice")
    modal = (await handle.response()).data
    inputs = text_inputs(modal)
    assert list(inputs) == ["name", "organisation", "country", "topics", "offer_seek"]
    assert (inputs["name"]["min_length"], inputs["name"]["max_length"]) == (1, 80)
    assert inputs["topics"]["max_length"] == 300 and "300" in inputs["topics"]["placeholder"]
    assert inputs["organisation"].get("required") is False

    before = len(cards(fake))
    preview = await (await fake.submit_modal(ALICE, interaction=handle)).wait_for_message()
    assert preview.ephemeral and preview.custom_ids() == [POST, EDIT]
    assert preview.embeds[0]["title"] == "Alice Martin"
    assert len(cards(fake)) == before, "nothing is public before Post"

    await post(fake, preview, "alice")
    (card,) = cards(fake)
    assert not card.ephemeral and card.embeds[0]["title"] == "Alice Martin"
    fields = {f["name"]: f["value"] for f in card.embeds[0]["fields"]}
    assert fields == {
        "Organisation": "Coopérative Lumière",
        "Country": "France",
        "Consortium": "UpSocial / RRR",
    }

    shown = await (await fake.invoke_slash("intro show", {"member": "alice"}, user="bob")).wait_for_message()
    assert shown.ephemeral and "impact measurement" in shown.text()


async def test_intro_edit_updates_the_same_card(fake: FakeDiscord, bot: BotProcess) -> None:
    (card,) = cards(fake)
    handle = await fake.invoke_slash("intro edit", user="alice")
    modal = (await handle.response()).data
    assert text_inputs(modal)["name"]["value"] == "Alice Martin", "the form is pre-filled"
    since = len(fake.requests)
    changed = {"topics": "impact measurement, cooperatives and the SDGs"}
    preview = await (await fake.submit_modal(changed, interaction=handle)).wait_for_message()
    await post(fake, preview, "alice")
    patch = await fake.wait_for_request("PATCH", "/channels/{channel_id}/messages/{message_id}", since=since)
    assert patch.path.endswith(f"/messages/{card.id}")
    assert [c.id for c in cards(fake)] == [card.id], "no new card"
    assert "the SDGs" in card.embeds[0]["description"]
    assert card.embeds[0]["fields"][-1]["value"] == "UpSocial / RRR", "the consortium is kept"


async def test_markdown_mentions_and_sql_are_shown_literally(fake: FakeDiscord, bot: BotProcess) -> None:
    alice = fake.user("alice").id
    values = {
        "name": f"**Bob** @everyone <@{alice}>",
        "organisation": "'; DROP TABLE introduction; --",
        "country": "Korea",
        "topics": "impact measurement in social enterprises, __public procurement__",
        "offer_seek": "",
    }
    preview = await introduce(fake, "bob", values)
    await post(fake, preview, "bob")
    card = next(c for c in cards(fake) if "Bob" in c.embeds[0]["title"])
    assert card.embeds[0]["title"] == f"\\*\\*Bob\\*\\* @\u200beveryone \\<@{alice}>"
    assert card.embeds[0]["fields"][0]["value"] == "'; DROP TABLE introduction; --"
    assert "\\_\\_public procurement\\_\\_" in card.embeds[0]["description"]
    assert pings_nobody(card.allowed_mentions)


async def test_blank_name_is_refused_with_the_limit_and_edit_reopens_the_form(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    values = {"name": "   ", "country": "Mexico", "topics": "cooperatives"}
    error = await introduce(fake, "carol", values)
    assert error.ephemeral and "Name is empty; give 1-80 characters" in error.content
    assert error.custom_ids() == [EDIT], "no Post button while the card has problems"
    clicked = await fake.click_button(error, EDIT, user="carol")
    reopened = await clicked.response()
    assert reopened.type == 9 and text_inputs(reopened.data)["country"]["value"] == "Mexico"
    fixed = await fake.submit_modal({"name": "Carol Díaz"}, interaction=clicked)
    preview = await fixed.wait_for_message(lambda m: POST in m.custom_ids())
    assert preview.id == error.id, "the same private message now shows the card"
    await post(fake, preview, "carol")


async def test_peers_search_paginates_and_match_names_the_overlap(fake: FakeDiscord, bot: BotProcess) -> None:
    for number in range(4):
        name = f"peer{number}"
        await fake.member_join(name)
        values = {
            "name": f"Peer {number}",
            "country": "Spain",
            "topics": f"cooperatives and housing {number}",
        }
        await post(fake, await introduce(fake, name, values), name)

    found = await (
        await fake.invoke_slash("peers search", {"topic": "impact measurment"}, user="carol")
    ).wait_for_message()
    fields = found.embeds[0]["fields"]
    assert found.ephemeral and fields[0]["name"] == "Alice Martin" and "Matched: impact" in fields[0]["value"]

    everyone = await (await fake.invoke_slash("peers search", user="carol")).wait_for_message()
    assert everyone.embeds[0]["title"] == "Peers 1-5 of 7"
    ids = everyone.custom_ids()
    assert ids == ["peerbot:peers:prev", "peerbot:peers:next"]
    clicked = await fake.click_button(everyone, "peerbot:peers:next", user="carol")
    second = await clicked.wait_for_message(lambda m: m.embeds[0]["title"] == "Peers 6-7 of 7")
    assert len(second.embeds[0]["fields"]) == 2

    by_country = await (
        await fake.invoke_slash("peers search", {"country": "Frnace"}, user="carol")
    ).wait_for_message()
    assert [f["name"] for f in by_country.embeds[0]["fields"]] == ["Alice Martin"]

    match = await (await fake.invoke_slash("peers match", user="carol")).wait_for_message()
    names = [f["name"] for f in match.embeds[0]["fields"]]
    assert len(names) == 3 and "Shared topics: cooperative" in match.embeds[0]["fields"][0]["value"]


async def test_deleting_someone_elses_card_is_refused(fake: FakeDiscord, bot: BotProcess) -> None:
    refused = await (
        await fake.invoke_slash("intro delete", {"member": "bob"}, user="alice")
    ).wait_for_message()
    assert refused.ephemeral and refused.content.startswith(
        "Sorry, you can delete only your own introduction"
    )
    assert refused.custom_ids() == []


async def test_intro_delete_with_confirm_deletes_the_card(fake: FakeDiscord, bot: BotProcess) -> None:
    card = next(c for c in cards(fake) if c.embeds[0]["title"] == "Alice Martin")
    question = await (await fake.invoke_slash("intro delete", user="alice")).wait_for_message()
    assert "cannot be undone" in question.content
    done = await fake.click_button(question, CONFIRM, user="alice")
    await done.wait_for_message(lambda m: m.content.startswith("Introduction deleted."))
    assert card.deleted
    gone = await (await fake.invoke_slash("intro show", user="alice")).wait_for_message()
    assert "You have no introduction yet" in gone.content


async def test_editor_deletes_anyones_card(fake: FakeDiscord, bot: BotProcess) -> None:
    card = next(c for c in cards(fake) if c.embeds[0]["title"] == "Peer 3")
    question = await (
        await fake.invoke_slash("intro delete", {"member": "peer3"}, user="bob")
    ).wait_for_message()
    done = await fake.click_button(question, CONFIRM, user="bob")
    await done.wait_for_message(lambda m: m.content.startswith("Introduction deleted."))
    assert card.deleted
    assert "Editor" in bot.running.log() and "deleted the introduction of member" in bot.running.log()


async def test_a_newcomer_is_greeted(fake: FakeDiscord, bot: BotProcess) -> None:
    erin = await fake.member_join("erin")
    greeting = await fake.wait_for_message(lambda m: "Welcome" in m.content, channel="introductions")
    assert f"<@{erin.id}>" in greeting.content and greeting.custom_ids() == [START]
    assert pings_nobody(greeting.allowed_mentions)


async def test_the_introduce_button_works_after_a_restart(fake: FakeDiscord, bot: BotProcess) -> None:
    button = next(m for m in fake.messages_in("introductions") if "Introduce yourself!" in m.content)
    await bot.stop()
    await bot.start()
    clicked = await fake.click_button(button, START, user="erin")
    assert (await clicked.response()).type == 9
    values = {"name": "Erin", "country": "Canada", "topics": "social finance"}
    preview = await (await fake.submit_modal(values, interaction=clicked)).wait_for_message()
    assert preview.ephemeral and POST in preview.custom_ids()
    assert button.content.startswith("**Introduce yourself!**"), "the public message is left alone"


async def test_leaving_keeps_or_erases_as_the_server_chose(fake: FakeDiscord, bot: BotProcess) -> None:
    await fake.member_leave("peer0")
    kept = await (await fake.invoke_slash("intro show", {"member": "peer1"}, user="carol")).wait_for_message()
    assert kept.embeds  # default: keep
    await (await fake.invoke_slash("setup", {"erase_on_leave": True}, user="carol")).wait_for_message()
    card = next(c for c in cards(fake) if c.embeds[0]["title"] == "Peer 1")
    await fake.member_leave("peer1")
    await fake.wait_for_request("DELETE", f"/channels/{card.channel_id}/messages/{card.id}")
    assert card.deleted


async def test_privacy_show_and_forget_me(fake: FakeDiscord, bot: BotProcess) -> None:
    shown = await (await fake.invoke_slash("privacy show", user="bob")).wait_for_message()
    assert shown.ephemeral and "Introduction in server" in shown.text() and "Korea" in shown.text()
    card = next(c for c in cards(fake) if "Bob" in c.embeds[0]["title"])
    question = await (await fake.invoke_slash("privacy forget-me", user="bob")).wait_for_message()
    done = await fake.click_button(question, CONFIRM, user="bob")
    result = await done.wait_for_message(lambda m: m.content.startswith("Done: erased"))
    assert "introductions (1)" in result.content
    assert card.deleted
    again = await (await fake.invoke_slash("privacy show", user="bob")).wait_for_message()
    assert "Introduction in server" not in again.text()


async def test_nobody_is_ever_pinged(fake: FakeDiscord, bot: BotProcess) -> None:
    sent = [m for m in fake.messages if m.source in {"channel", "dm", "interaction", "followup"}]
    assert len(sent) >= 20
    assert [(m, m.allowed_mentions) for m in sent if not pings_nobody(m.allowed_mentions)] == []
    assert fake.unknown_routes == []
