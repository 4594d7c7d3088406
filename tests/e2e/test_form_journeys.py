"""Several members with forms open at once: every form belongs to who opened it and to what it is for.

Real Discord lets every member have their own form open and sends back the custom id the bot gave
that form; the fake does the same (each opened modal is kept with the interaction that opened it).
The journeys open forms in one order and submit them in another, from many members at once, replay
a form's custom id as someone else, and submit forms that outlived the bot process.

The bot of this module runs on a COPY of the knowledge directory (its journeys write entries).
"""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from conftest import BotProcess, pings_nobody
from fake_discord import FakeDiscord, InteractionHandle, SentMessage

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
POST = "peerbot:intro:post"
CROWD = 200
INTRO_CONSORTIA = ("DIESIS / SILK", "Impact Hub", "CEPES / PL4SE", "French Impact", "Social Value",
                   "UpSocial / RRR")  # fmt: skip
CAROL_ENTRY = {
    "title": "Cities sharing spaces with the SSE",
    "tags": "rrr, cities, spaces",
    "questions": "Which spaces did cities share?\nDid cities open buildings?\nHow did cities host the SSE?",
    "answer": "Carol's answer: cities opened empty buildings to SSE organisations.",
    "source": "UpSocial / RRR: spaces",
}
CAROL_ID = "rrr-cities-sharing-spaces-with-the-sse"
BOB_ANSWER = "Bob's answer: the objectives were to respond, rebuild and reinvent."


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("forms-kb") / "knowledge"
    shutil.copytree(BUNDLED_KNOWLEDGE, directory)
    return directory


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, knowledge: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(fake, knowledge.parent, extra_env={"PEERBOT_KNOWLEDGE_DIR": str(knowledge)})
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


def entry(knowledge: Path, entry_id: str) -> dict:
    """The entry as saved in its YAML file (what survives a restart)."""
    for path in sorted(knowledge.glob("*.yaml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entries") or []:
            if item["id"] == entry_id:
                return item
    raise KeyError(entry_id)


def in_any_file(knowledge: Path, text: str) -> bool:
    return any(text in path.read_text(encoding="utf-8") for path in knowledge.glob("*.yaml"))


def fields(message: SentMessage) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message.embeds[0].get("fields") or []}


async def open_form(fake: FakeDiscord, command: str, options: dict | None, user: str) -> InteractionHandle:
    handle = await fake.invoke_slash(command, options, user=user)
    assert (await handle.response()).type == 9, f"{user}'s {command} opened no form"
    return handle


async def test_setup_with_an_editor_role(fake: FakeDiscord, bot: BotProcess) -> None:
    handle = await fake.invoke_slash(
        "setup",
        {"introductions_channel": "introductions", "editor_role": "Editor", "welcome": False},
        user="carol",
    )
    assert "Settings saved." in (await handle.wait_for_message()).content


async def test_interleaved_forms_of_two_editors_and_two_members_each_land_in_place(
    fake: FakeDiscord, bot: BotProcess, knowledge: Path
) -> None:
    dave = await fake.member_join("dave")
    objectives_before = entry(knowledge, "rrr-objectives")
    # Opened in this order: carol's new entry, bob's edit, alice's and dave's introductions ...
    carol = await open_form(fake, "kb add", {"consortium": "UpSocial / RRR"}, "carol")
    bob = await open_form(fake, "kb edit", {"id": "rrr-objectives"}, "bob")
    alice = await open_form(fake, "intro create", {"consortium": "UpSocial / RRR"}, "alice")
    daves = await open_form(fake, "intro create", {"consortium": "Impact Hub"}, "dave")
    # ... and submitted in the opposite one.
    dave_values = {"name": "Dave Okafor", "country": "Nigeria", "topics": "social finance for hubs"}
    dave_preview = await (await fake.submit_modal(dave_values, interaction=daves)).wait_for_message()
    alice_values = {"name": "Alice Martin", "country": "France", "topics": "impact measurement"}
    alice_preview = await (await fake.submit_modal(alice_values, interaction=alice)).wait_for_message()
    bob_saved = await (await fake.submit_modal({"answer": BOB_ANSWER}, interaction=bob)).wait_for_message()
    carol_saved = await (await fake.submit_modal(CAROL_ENTRY, interaction=carol)).wait_for_message()

    assert dave_preview.ephemeral and dave_preview.embeds[0]["title"] == "Dave Okafor"
    assert fields(dave_preview) == {"Country": "Nigeria", "Consortium": "Impact Hub"}
    assert f"<@{dave.id}>" in dave_preview.embeds[0]["description"]
    assert alice_preview.embeds[0]["title"] == "Alice Martin"
    assert fields(alice_preview) == {"Country": "France", "Consortium": "UpSocial / RRR"}
    assert bob_saved.ephemeral and "Saved 'rrr-objectives'" in bob_saved.content
    assert carol_saved.ephemeral and f"Added '{CAROL_ID}' in rrr.yaml" in carol_saved.content

    objectives = entry(knowledge, "rrr-objectives")
    assert objectives["answer"].strip() == BOB_ANSWER
    assert objectives["title"] == objectives_before["title"], "bob's pre-filled fields are his entry's"
    carols = entry(knowledge, CAROL_ID)
    assert (carols["title"], carols["answer"].strip()) == (CAROL_ENTRY["title"], CAROL_ENTRY["answer"])
    history = await (
        await fake.invoke_slash("kb history", {"id": "rrr-objectives"}, user="carol")
    ).wait_for_message()
    assert (
        "edit by Bob" in history.embeds[0]["description"] and "Carol" not in history.embeds[0]["description"]
    )

    for preview, user in ((alice_preview, "alice"), (dave_preview, "dave")):
        clicked = await fake.click_button(preview, POST, user=user)
        await clicked.wait_for_message(lambda m: "Posted in" in m.content)
    cards = {m.embeds[0]["title"]: m for m in fake.messages_in("introductions") if m.embeds and not m.deleted}
    assert fields(cards["Dave Okafor"])["Consortium"] == "Impact Hub"
    assert fields(cards["Alice Martin"])["Consortium"] == "UpSocial / RRR"


async def test_two_hundred_members_filling_the_form_at_their_own_pace(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    pace = random.Random(20240611)  # seeded: the same interleaving on every run
    delays = [(pace.uniform(0, 0.4), pace.uniform(0, 0.6)) for _ in range(CROWD)]
    crowd = [f"member{number:03d}" for number in range(CROWD)]
    for name in crowd:
        await fake.member_join(name)

    def values(number: int) -> dict[str, str]:
        return {
            "name": f"Member {number:03d}",
            "country": f"Country {number:03d}",
            "topics": f"topic {number:03d} and cooperatives",
        }

    def consortium(number: int) -> str:
        return INTRO_CONSORTIA[number % len(INTRO_CONSORTIA)]

    async def member(number: int) -> SentMessage:
        before_opening, before_submitting = delays[number]
        await asyncio.sleep(before_opening)
        handle = await open_form(fake, "intro create", {"consortium": consortium(number)}, crowd[number])
        await asyncio.sleep(before_submitting)
        submitted = await fake.submit_modal(values(number), interaction=handle, timeout=30)
        preview = await submitted.wait_for_message(timeout=30)
        clicked = await fake.click_button(preview, POST, user=crowd[number], timeout=30)
        await clicked.wait_for_message(lambda m: "Posted in" in m.content, timeout=30)
        return preview

    previews = await asyncio.gather(*(member(number) for number in range(CROWD)))

    for number, preview in enumerate(previews):
        assert preview.embeds[0]["title"] == f"Member {number:03d}", (
            f"{crowd[number]} saw someone else's card"
        )
        assert fields(preview) == {"Country": f"Country {number:03d}", "Consortium": consortium(number)}
    cards = {m.embeds[0]["title"]: m for m in fake.messages_in("introductions") if m.embeds and not m.deleted}
    for number in range(CROWD):
        card = cards[f"Member {number:03d}"]
        assert fields(card) == {"Country": f"Country {number:03d}", "Consortium": consortium(number)}
        assert card.embeds[0]["description"].startswith(f"<@{fake.user(crowd[number]).id}>")


async def test_a_replayed_form_id_is_refused_and_the_owners_form_still_works(
    fake: FakeDiscord, bot: BotProcess, knowledge: Path
) -> None:
    before = entry(knowledge, "rrr-overview")
    carols = await open_form(fake, "kb edit", {"id": "rrr-overview"}, "carol")
    form_id = carols.interaction.modal["custom_id"]
    replay = await fake.submit_modal({"answer": "Alice's vandalism"}, custom_id=form_id, user="alice")
    refused = await replay.wait_for_message()
    assert refused.ephemeral and "someone else" in refused.content
    assert entry(knowledge, "rrr-overview") == before
    await bot.running.wait_for_log(f"member {fake.user('alice').id} submitted a form of member")

    saved = await (
        await fake.submit_modal({"answer": "Carol's overview."}, interaction=carols)
    ).wait_for_message()
    assert "Saved 'rrr-overview'" in saved.content
    assert entry(knowledge, "rrr-overview")["answer"].strip() == "Carol's overview."

    # The same between two members: bob replays alice's introduction form.
    alices = await open_form(fake, "intro edit", None, "alice")
    replay = await fake.submit_modal(
        {"name": "Not Alice"}, custom_id=alices.interaction.modal["custom_id"], user="bob"
    )
    assert "someone else" in (await replay.wait_for_message()).content
    alice = {"name": "Alice Martin", "country": "Belgium", "topics": "impact measurement"}
    preview = await (await fake.submit_modal(alice, interaction=alices)).wait_for_message()
    assert preview.embeds[0]["title"] == "Alice Martin" and fields(preview)["Country"] == "Belgium"


async def test_a_form_that_outlived_the_bot_is_answered_with_what_was_typed(
    fake: FakeDiscord, bot: BotProcess, knowledge: Path
) -> None:
    carols = await open_form(fake, "kb add", {"consortium": "Impact Hub"}, "carol")
    alices = await open_form(fake, "intro edit", None, "alice")
    alice = {"name": "Alice Martin", "country": "Spain", "topics": "impact measurement"}
    preview = await (await fake.submit_modal(alice, interaction=alices)).wait_for_message()
    erins_form = await open_form(fake, "intro create", None, known_member(fake, "erin"))
    await bot.stop()
    await bot.start()

    text = {**CAROL_ENTRY, "title": "Hubs lending desks", "answer": "Typed before the restart."}
    late = await fake.submit_modal(text, interaction=carols)
    reply = await late.wait_for_message()
    assert reply.ephemeral and "no longer open" in reply.content and "nothing was saved" in reply.content
    (typed,) = late.interaction.callbacks[0]["files"]
    assert typed.filename.endswith(".txt") and b"Typed before the restart." in typed.data
    assert not in_any_file(knowledge, "Hubs lending desks")
    await bot.running.wait_for_log("matches no open form")

    erins = await (await fake.submit_modal({"name": "Erin", "country": "Canada", "topics": "x"},
                                           interaction=erins_form)).wait_for_message()  # fmt: skip
    assert "no longer open" in erins.content and "/intro create" in erins.content

    stale = await fake.click_button(preview, POST, user="alice")
    expired = await stale.wait_for_message()
    assert expired.ephemeral and "expired" in expired.content
    await bot.running.wait_for_log("matches no live view")


async def test_nobody_was_pinged(fake: FakeDiscord, bot: BotProcess) -> None:
    sent = [m for m in fake.messages if m.source in {"channel", "dm", "interaction", "followup"}]
    assert len(sent) >= 2 * CROWD
    assert [m for m in sent if not pings_nobody(m.allowed_mentions)] == []
    assert fake.unknown_routes == []


def known_member(fake: FakeDiscord, name: str) -> str:
    """A member known to the fake (interactions carry the member, so the bot needs no join event)."""
    if name not in fake.state.users:
        fake.state.add_user(name, global_name=name.capitalize())
    return name
