"""Invite links, join requests and migrations in the world, as a real Telethon client sees
them (messages.checkChatInvite / messages.importChatInvite) and as the control API makes them."""

from __future__ import annotations

import aiohttp
import pytest
from telethon import TelegramClient, errors, functions, types

from sandbox.server import SandboxServer
from tests.sandbox.conftest import ALICE, BOB, ME, call_json

CHAT, GROUP, MOVED = 1_900_000_001, 9_101, 1_900_000_002


async def test_links_answer_check_and_import_with_approval_and_expiry(
    sandbox: SandboxServer, http: aiohttp.ClientSession, me: TelegramClient
) -> None:
    base = f"{sandbox.url}/sandbox/world/chats"
    await call_json(
        http,
        "POST",
        base,
        {"id": CHAT, "type": "megagroup", "title": "Back Room", "creator": ALICE, "members": [BOB]},
    )
    link = await call_json(http, "POST", f"{base}/{CHAT}/invites", {"request_needed": True})
    assert link["link"] == f"https://t.me/+{link['hash']}" and link["request_needed"] is True

    seen = await me(functions.messages.CheckChatInviteRequest(link["hash"]))
    assert isinstance(seen, types.ChatInvite)
    assert (seen.title, seen.participants_count, seen.request_needed, seen.megagroup) == (
        "Back Room",
        2,
        True,
        True,
    )
    with pytest.raises(errors.InviteRequestSentError):
        await me(functions.messages.ImportChatInviteRequest(link["hash"]))
    assert (await call_json(http, "GET", f"{base}/{CHAT}/join-requests"))["requests"] == [ME]
    assert ME not in (await call_json(http, "GET", f"{base}/{CHAT}/members"))["members"]

    await call_json(
        http, "POST", f"{base}/{CHAT}/join-requests/{BOB}/approve", status=404
    )  # never asked
    approved = await call_json(http, "POST", f"{base}/{CHAT}/join-requests/{ME}/approve")
    assert approved == {"ok": True, "member_count": 3}
    already = await me(functions.messages.CheckChatInviteRequest(link["hash"]))
    assert isinstance(already, types.ChatInviteAlready) and isinstance(already.chat, types.Channel)
    with pytest.raises(errors.UserAlreadyParticipantError):
        await me(functions.messages.ImportChatInviteRequest(link["hash"]))

    expired = await call_json(http, "POST", f"{base}/{CHAT}/invites", {"expired": True})
    with pytest.raises(errors.InviteHashExpiredError):
        await me(functions.messages.CheckChatInviteRequest(expired["hash"]))
    with pytest.raises(errors.InviteHashExpiredError):
        await me(functions.messages.ImportChatInviteRequest(expired["hash"]))
    with pytest.raises(errors.InviteHashInvalidError):
        await me(functions.messages.ImportChatInviteRequest("NoSuchHash"))
    await call_json(http, "POST", f"{base}/{CHAT}/invites", {"hash": "a b"}, status=400)


async def test_a_basic_group_migrates_to_a_supergroup(
    sandbox: SandboxServer, http: aiohttp.ClientSession, me: TelegramClient
) -> None:
    base = f"{sandbox.url}/sandbox/world/chats"
    await call_json(
        http,
        "POST",
        base,
        {"id": GROUP, "type": "group", "title": "Old Club", "creator": ME, "members": [ALICE, BOB]},
    )
    moved = await call_json(http, "POST", f"{base}/{GROUP}/migrate", {"new_id": MOVED})
    assert moved == {"migrated_to": MOVED}
    full = await me(functions.messages.GetFullChatRequest(GROUP))
    old = next(c for c in full.chats if c.id == GROUP)
    assert old.deactivated and isinstance(old.migrated_to, types.InputChannel)
    channel = await me(functions.channels.GetFullChannelRequest(old.migrated_to))
    assert channel.full_chat.participants_count == 3
    await call_json(
        http, "POST", f"{base}/{GROUP}/migrate", {"new_id": MOVED + 1}, status=400
    )  # once only
    await call_json(
        http, "POST", f"{base}/{MOVED}/migrate", {"new_id": MOVED + 2}, status=400
    )  # not a basic group
