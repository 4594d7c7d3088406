"""A fake Discord (REST + gateway on 127.0.0.1) that the real discord.py client connects to.

Only for tests: see ``FakeDiscord`` and its driver methods (``driver.py``)::

    async with FakeDiscord() as fake:
        apply_endpoints(fake.api_url, fake.gateway_url, loopback_only=True)  # or env=fake.env()
        ...start the bot, then:
        await fake.send_message("alice", "general", "!ping")
        reply = await fake.wait_for_message(lambda m: m.content == "pong")
        handle = await fake.invoke_slash("intro show", {"member": "bob"})
        await handle.wait_for_message()
        assert fake.unknown_routes == []
"""

from .driver import CommandNotSynced, InteractionHandle, InteractionReply
from .records import Fault, Hold, RecordedFile, RequestRecord, SentMessage
from .server import FakeDiscord
from .state import INTERACTION_WINDOW_S, FakeChannel, FakeRole, FakeUser

__all__ = [
    "INTERACTION_WINDOW_S",
    "CommandNotSynced",
    "FakeChannel",
    "FakeDiscord",
    "FakeRole",
    "FakeUser",
    "Fault",
    "Hold",
    "InteractionHandle",
    "InteractionReply",
    "RecordedFile",
    "RequestRecord",
    "SentMessage",
]
