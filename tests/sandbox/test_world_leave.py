"""The control API lets a person leave a chat of their own accord (what the retention checks
later find): the member list and a real Telethon client see them gone; the creator cannot
leave, nor someone who is not in the chat."""

from __future__ import annotations

import aiohttp
from telethon import TelegramClient, functions, types

from sandbox.server import SandboxServer
from tests.sandbox.conftest import ALICE, GHOST, LOUNGE, ME, call_json


async def test_a_person_leaves_a_chat_through_the_control_api(
    sandbox: SandboxServer, http: aiohttp.ClientSession, me: TelegramClient
) -> None:
    base = f"{sandbox.url}/sandbox/world/chats"
    before = (await call_json(http, "GET", f"{base}/{LOUNGE}/members"))["members"]
    assert ALICE in before
    answer = await call_json(http, "POST", f"{base}/lounge/leave", {"user": ALICE})
    assert answer == {"ok": True, "member_count": len(before) - 1}
    assert ALICE not in (await call_json(http, "GET", f"{base}/{LOUNGE}/members"))["members"]
    # A member account asking Telegram sees the same.
    lounge = await me.get_input_entity("lounge")
    found = await me(
        functions.channels.GetParticipantsRequest(
            lounge, types.ChannelParticipantsRecent(), 0, 200, 0
        )
    )
    assert ALICE not in {p.user_id for p in found.participants} and GHOST in {
        p.user_id for p in found.participants
    }

    refused = await call_json(http, "POST", f"{base}/{LOUNGE}/leave", {"user": ALICE}, status=400)
    assert "not a member" in refused["error"]["message"]
    creator = await call_json(http, "POST", f"{base}/{LOUNGE}/leave", {"user": ME}, status=400)
    assert "creator" in creator["error"]["message"]
    await call_json(http, "POST", f"{base}/{LOUNGE}/leave", {"user": "alice"}, status=400)
    await call_json(http, "POST", f"{base}/999999/leave", {"user": ALICE}, status=404)
