"""Self-test of the fake Discord: a small in-process discord.py bot (not PeerBot) driven through it."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import zlib
from collections.abc import AsyncIterator, Iterator

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route
from fake_discord import CommandNotSynced, FakeDiscord

from peerbot.discord.endpoints import apply_endpoints

pytestmark = [pytest.mark.asyncio, pytest.mark.e2e]

FRUITS = ["apple", "apricot", "banana", "cherry"]


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="Your feedback", custom_id="feedback:text", max_length=200)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.text.value}", ephemeral=True)


class FruitView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Confirm", custom_id="fruit:confirm")
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"Confirmed by {interaction.user.name}", view=None)

    @discord.ui.button(label="Feedback", custom_id="fruit:feedback")
    async def feedback(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(FeedbackModal())


FRUIT_OPTIONS = [discord.SelectOption(label=f, value=f) for f in FRUITS]


class MenuView(discord.ui.View):
    @discord.ui.select(custom_id="menu:fruit", options=FRUIT_OPTIONS)
    async def choose(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.defer()
        await interaction.followup.send(f"Selected {', '.join(select.values)}", ephemeral=True)
        await interaction.edit_original_response(content="Menu closed", view=None)


def make_bot(ready: asyncio.Event) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)

    @bot.tree.command(name="fruit", description="Pick a fruit")
    @app_commands.describe(name="The fruit")
    async def fruit(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"You picked {name}", view=FruitView())

    @fruit.autocomplete("name")
    async def fruit_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f, value=f) for f in FRUITS if f.startswith(current)]

    intro = app_commands.Group(name="intro", description="Introductions")

    @intro.command(name="show", description="Show someone's introduction")
    async def intro_show(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"Intro of {member.display_name} ({member.id})")

    bot.tree.add_command(intro)

    @bot.tree.command(name="feedback", description="Send feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @bot.tree.command(name="menu", description="A private menu")
    async def menu(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Pick one", view=MenuView(), ephemeral=True)

    @bot.command()
    async def file(ctx: commands.Context) -> None:
        await ctx.send("here", file=discord.File(io.BytesIO(b"hello file"), filename="hello.txt"))

    @bot.command()
    async def ping(ctx: commands.Context) -> None:
        await ctx.send("pong")

    @bot.command()
    async def dmme(ctx: commands.Context) -> None:
        await ctx.author.send("psst, a secret")

    @bot.listen("on_message")
    async def on_message(message: discord.Message) -> None:
        if message.author.bot:
            return
        if message.guild is None:
            await message.channel.send(f"got your DM: {message.content}")
        elif bot.user in message.mentions:
            await message.reply(f"hello {message.author.name}")

    @bot.listen("on_member_join")
    async def on_member_join(member: discord.Member) -> None:
        await member.guild.text_channels[0].send(f"Welcome {member.mention}!")

    @bot.listen("on_ready")
    async def on_ready() -> None:
        ready.set()

    async def setup_hook() -> None:
        await bot.tree.sync()

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def endpoints(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py at the fake, and put the real endpoints back afterwards."""
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    apply_endpoints(fake.api_url, fake.gateway_url, loopback_only=True)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord, endpoints: None) -> AsyncIterator[commands.Bot]:
    ready = asyncio.Event()
    client = make_bot(ready)
    runner = asyncio.create_task(client.start(fake.token))
    waiter = asyncio.create_task(ready.wait())
    try:
        done, _ = await asyncio.wait({runner, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()  # re-raise why the bot stopped
        assert waiter in done, "bot not ready within 10 s"
        yield client
    finally:
        waiter.cancel()
        await client.close()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        assert not fake.recorder.protocol_errors, fake.recorder.protocol_errors


async def test_ready_and_command_sync(fake: FakeDiscord, bot: commands.Bot) -> None:
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None and not guild.unavailable
    assert {c.name for c in guild.text_channels} == {"general", "introductions", "announcements"}
    assert {m.name for m in guild.members} == {"PeerBot", "alice", "bob", "carol"}
    assert guild.get_member(fake.user("carol").id).guild_permissions.administrator
    assert [r.name for r in guild.get_member(fake.user("bob").id).roles] == ["@everyone", "Editor"]

    commands_by_name = {c["name"]: c for c in fake.commands}
    assert set(commands_by_name) == {"fruit", "intro", "feedback", "menu"}
    fruit_option = commands_by_name["fruit"]["options"][0]
    assert fruit_option["name"] == "name" and fruit_option["autocomplete"] is True
    show = commands_by_name["intro"]["options"][0]
    assert (show["name"], show["type"], show["options"][0]["type"]) == ("show", 1, 6)
    sync = [r for r in fake.requests if r.route == "/applications/{application_id}/commands"]
    assert sync[0].method == "PUT" and {c["name"] for c in sync[0].json} == set(commands_by_name)
    assert all(c["id"] for c in sync[0].response)
    assert fake.unknown_routes == []


async def test_message_and_prefix_command(fake: FakeDiscord, bot: commands.Bot) -> None:
    sent = await fake.send_message("alice", "general", f"hi {fake.bot_user.mention}")
    reply = await fake.wait_for_message(lambda m: "hello alice" in m.content)
    assert reply.channel_id == fake.channel("general").id
    assert reply.data["message_reference"]["message_id"] == sent["id"]
    assert reply.data["author"]["id"] == str(fake.bot_user.id)

    await fake.send_message("bob", "introductions", "!ping")
    pong = await fake.wait_for_message(lambda m: m.content == "pong", channel="introductions")
    assert pong.source == "channel"
    assert [m["content"] for m in fake.history("introductions")] == ["!ping", "pong"]

    await fake.send_message("bob", "general", "!file")
    upload = await fake.wait_for_message(lambda m: m.content == "here")
    assert [(f.filename, f.data) for f in upload.files] == [("hello.txt", b"hello file")]
    assert upload.attachments[0]["filename"] == "hello.txt" and upload.attachments[0]["size"] == 10
    assert upload.request is not None and upload.request.json["content"] == "here"  # from payload_json


async def test_ephemeral_select_followup_and_edit(fake: FakeDiscord, bot: commands.Bot) -> None:
    handle = await fake.invoke_slash("menu", user="bob")
    menu = (await handle.response()).message
    assert menu is not None and menu.ephemeral
    chosen = await fake.select(menu, "menu:fruit", ["cherry"], user="bob")
    assert (await chosen.response()).type == 6
    followup = await chosen.followup()
    assert followup.content == "Selected cherry" and followup.ephemeral and followup.source == "followup"
    await fake.wait_for_message(lambda m: m.content == "Menu closed")
    assert menu.content == "Menu closed" and menu.components == []
    with pytest.raises(LookupError):  # the edit removed the menu
        await fake.select(menu, "menu:fruit", ["apple"])


async def test_rest_objects_parse_in_discord_py(fake: FakeDiscord, bot: commands.Bot) -> None:
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None
    start = discord.utils.utcnow() + dt.timedelta(days=1)
    event = await guild.create_scheduled_event(
        name="Peer session",
        start_time=start,
        end_time=start + dt.timedelta(hours=1),
        entity_type=discord.EntityType.external,
        location="Online",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert event.location == "Online" and event.creator_id == fake.bot_user.id
    event = await event.edit(name="Peer session 2")
    assert [e.name for e in await guild.fetch_scheduled_events()] == ["Peer session 2"]
    await event.delete()
    assert fake.state.scheduled_events == {}
    with pytest.raises(discord.HTTPException) as error:
        await guild.create_scheduled_event(
            name="Past", start_time=discord.utils.utcnow() - dt.timedelta(days=1),
            end_time=start, entity_type=discord.EntityType.external, location="x",
            privacy_level=discord.PrivacyLevel.guild_only,
        )  # fmt: skip
    assert error.value.code == 50035

    member = await guild.fetch_member(fake.user("bob").id)
    assert [r.name for r in member.roles] == ["@everyone", "Editor"]
    channel = await bot.fetch_channel(fake.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("one")
    await message.add_reaction("👍")
    assert fake.state.find_message(message.id)["reactions"][0]["emoji"]["name"] == "👍"
    await message.edit(content="two")
    assert [m.content async for m in channel.history(limit=5)] == ["two"]
    await message.delete()
    assert fake.messages[-1].deleted and fake.unknown_routes == []


async def test_slash_command_button_and_subcommand(fake: FakeDiscord, bot: commands.Bot) -> None:
    handle = await fake.invoke_slash("fruit", {"name": "apple"}, user="alice")
    reply = await handle.response()
    assert reply.type == 4 and reply.message is not None
    assert reply.message.content == "You picked apple"
    assert reply.message.custom_ids() == ["fruit:confirm", "fruit:feedback"]
    assert reply.message.data["interaction_metadata"]["user"]["id"] == str(fake.user("alice").id)

    click = await fake.click_button(reply.message, "fruit:confirm", user="bob")
    update = await click.response()
    assert update.type == 7
    assert reply.message.content == "Confirmed by bob" and reply.message.components == []

    intro = await fake.invoke_slash("intro show", {"member": "bob"}, user="carol", channel="introductions")
    assert (await intro.response()).type == 5
    shown = await intro.wait_for_message(lambda m: "Intro of Bob" in m.content)
    assert str(fake.user("bob").id) in shown.content
    assert shown.id == intro.interaction.original_message_id  # the follow-up replaced "thinking"

    with pytest.raises(CommandNotSynced):
        await fake.invoke_slash("nope")


async def test_autocomplete(fake: FakeDiscord, bot: commands.Bot) -> None:
    choices = await fake.autocomplete("fruit", {"name": "ap"}, "name")
    assert choices == [{"name": "apple", "value": "apple"}, {"name": "apricot", "value": "apricot"}]


async def test_modal_from_command_and_from_button(fake: FakeDiscord, bot: commands.Bot) -> None:
    opened = await fake.invoke_slash("feedback", user="bob")
    assert (await opened.response()).type == 9
    submitted = await fake.submit_modal({"feedback:text": "great bot"})
    answer = await submitted.response()
    assert answer.type == 4 and answer.message is not None
    assert answer.message.content == "Thanks: great bot" and answer.message.ephemeral

    fruit = await fake.invoke_slash("fruit", {"name": "cherry"})
    message = (await fruit.response()).message
    assert message is not None
    click = await fake.click_button(message, "fruit:feedback")
    submitted = await fake.submit_modal({"feedback:text": "via button"}, interaction=click)
    assert submitted.payload["message"]["id"] == str(message.id)  # opened from a message component
    assert (await submitted.wait_for_message()).content == "Thanks: via button"


async def test_direct_messages(fake: FakeDiscord, bot: commands.Bot) -> None:
    await fake.send_dm("alice", "hello bot")
    reply = await fake.wait_for_message(lambda m: m.content.startswith("got your DM"))
    assert reply.content == "got your DM: hello bot" and reply.source == "dm"
    assert reply.channel_id == fake.state.dm_channel_for(fake.user("alice")).id

    await fake.send_message("bob", "general", "!dmme")
    secret = await fake.wait_for_message(lambda m: m.content == "psst, a secret")
    assert secret.channel_id == fake.state.dm_channel_for(fake.user("bob")).id
    assert any(r.path == "/users/@me/channels" and r.json["recipient_id"] for r in fake.requests)


async def test_429_is_retried(fake: FakeDiscord, bot: commands.Bot) -> None:
    fault = fake.fail_next("POST", "/channels/{channel_id}/messages", status=429, retry_after=0.2)
    await fake.send_message("alice", "general", "!ping")
    await fake.wait_for_message(lambda m: m.content == "pong")
    posts = [r for r in fake.requests if r.route == "/channels/{channel_id}/messages" and r.method == "POST"]
    assert [r.status for r in posts] == [429, 200]
    assert len(fault.hits) == 1 and fault.times == 0
    assert len([m for m in fake.messages if m.content == "pong"]) == 1


async def test_500_is_retried(fake: FakeDiscord, bot: commands.Bot) -> None:
    fake.fail_next("POST", r"/channels/\d+/messages", status=500)
    await fake.send_message("alice", "general", "!ping")
    await fake.wait_for_message(lambda m: m.content == "pong", timeout=5)
    posts = [r for r in fake.requests if r.route == "/channels/{channel_id}/messages" and r.method == "POST"]
    assert [r.status for r in posts] == [500, 200]


async def test_a_5xx_after_the_message_was_created_is_not_a_second_message(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    """discord.py retries a 502 with the same enforced nonce: the fake answers with the first message."""
    fake.fail_next("POST", "/channels/{channel_id}/messages", status=502, after=True)
    await fake.send_message("alice", "general", "!ping")

    def posts() -> list:
        return [
            r for r in fake.requests if r.route == "/channels/{channel_id}/messages" and r.method == "POST"
        ]

    await fake.recorder.wait_until(
        lambda: [r.status for r in posts()] == [502, 200] or None, 10, lambda: f"no retry: {posts()}"
    )
    first, retry = posts()
    assert first.json["nonce"] == retry.json["nonce"] and first.json["enforce_nonce"] is True
    assert len([m for m in fake.messages if m.content == "pong"]) == 1
    assert retry.response["id"] == fake.messages[-1].data["id"]
    assert fake.recorder.nonce_replays == [retry]


async def test_an_interaction_not_answered_in_its_window_expires(
    fake: FakeDiscord, bot: commands.Bot
) -> None:
    fake.interaction_timeout = 0.0  # expired before the bot can answer, whatever the machine
    late = await fake.invoke_slash("fruit", {"name": "apple"})
    await fake.wait_for_request("POST", "/interactions/{interaction_id}/{token}/callback")
    await fake.recorder.wait_until(lambda: late.interaction.refused or None, 5, lambda: "no callback")
    assert late.expired and late.answered_after is None
    (callback,) = [r for r in fake.requests if r.path.startswith(f"/interactions/{late.id}/")]
    assert (callback.status, callback.response["code"]) == (404, 10062)
    fake.interaction_timeout = 3.0  # Discord's window
    on_time = await fake.invoke_slash("fruit", {"name": "pear"})
    assert (await on_time.response()).type == 4
    assert not on_time.expired and on_time.answered_after is not None


async def test_gateway_drop_resume_and_reidentify(fake: FakeDiscord, bot: commands.Bot) -> None:
    await fake.drop_gateway()
    # Sent while the bot is disconnected: it must come with the RESUME replay.
    await fake.send_message("alice", "general", "!ping")
    await fake.wait_for_resume()
    await fake.wait_for_message(lambda m: m.content == "pong")
    assert fake.gateway.identify_count == 1

    await fake.drop_gateway(code=4000)
    await fake.wait_for_resume(2)
    await fake.send_message("alice", "general", "!ping")
    await fake.wait_for_message(lambda m: m.content == "pong")

    await fake.drop_gateway(resume=False)
    await fake.wait_for_identify(2)
    await fake.send_message("bob", "general", "!ping")
    await fake.wait_for_message(lambda m: m.content == "pong")
    handle = await fake.invoke_slash("fruit", {"name": "banana"})
    assert (await handle.response()).message.content == "You picked banana"  # type: ignore[union-attr]


async def test_wrong_token_is_login_failure(fake: FakeDiscord, endpoints: None) -> None:
    client = discord.Client(intents=discord.Intents.default())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()
    assert fake.requests[-1].status == 401
    assert fake.requests[-1].response == {"message": "401: Unauthorized", "code": 0}


async def test_raw_gateway_protocol(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(fake.gateway_url + "?v=10&encoding=json&compress=zlib-stream") as ws:
            inflater = zlib.decompressobj()
            hello = await ws.receive_bytes()
            assert hello.endswith(b"\x00\x00\xff\xff")
            assert json.loads(inflater.decompress(hello))["op"] == 10
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0, "properties": {}}})
            closing = await ws.receive()
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4004

        async with session.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws:
            assert (await ws.receive_json())["op"] == 10
            await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1 | 1 << 9, "properties": {}}})
            ready = await ws.receive_json()
            assert (ready["t"], ready["s"]) == ("READY", 1)
            assert ready["d"]["resume_gateway_url"] == fake.gateway_url
            await ws.send_json({"op": 1, "d": 1})
            guild_create = await ws.receive_json()
            assert guild_create["t"] == "GUILD_CREATE" and guild_create["d"]["member_count"] == 4
            assert (await ws.receive_json())["op"] == 11
            # No MESSAGE_CONTENT intent: content of a message that does not mention the bot is blanked.
            await fake.send_message("alice", "general", "secret words")
            message = await ws.receive_json()
            assert message["t"] == "MESSAGE_CREATE" and message["d"]["content"] == ""

        fake.gateway.privileged_intents = 0  # as if MESSAGE CONTENT were off in the developer portal
        async with session.ws_connect(fake.gateway_url) as ws:
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1 << 15, "properties": {}}})
            assert (await ws.receive()).data == 4014

        async with session.ws_connect(fake.gateway_url + "?v=10&encoding=json&compress=zstd-stream") as ws:
            closing = await ws.receive()
            assert closing.data == 4012
    assert "zstd-stream" in fake.recorder.protocol_errors[0]


async def test_unknown_route_is_recorded(
    fake: FakeDiscord, bot: commands.Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(discord.NotFound) as error:
        await bot.http.request(Route("GET", "/nowhere/{thing_id}", thing_id=1))
    assert error.value.text == "404: Not Found"
    with pytest.raises(discord.NotFound):  # known path, unknown method
        await bot.http.request(Route("DELETE", "/users/@me"))
    assert fake.unknown_routes == ["GET /nowhere/1", "DELETE /users/@me"]
    assert "GET /nowhere/1" in caplog.text


async def test_member_join(fake: FakeDiscord, bot: commands.Bot) -> None:
    dave = await fake.member_join("dave")
    welcome = await fake.wait_for_message(lambda m: m.content.startswith("Welcome"))
    assert welcome.content == f"Welcome {dave.mention}!" and welcome.channel_id == fake.channel("general").id
    assert welcome.data["mentions"][0]["id"] == str(dave.id)
    assert bot.get_guild(fake.guild_id).get_member(dave.id) is not None  # type: ignore[union-attr]
