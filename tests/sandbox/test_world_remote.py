"""The world over loopback: Telethon clients in other processes and the control API contract."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telethon import errors
from telethon.tl import functions as fn
from telethon.tl import types as tt

import sandbox.world.world as world_module
from sandbox.__main__ import parse_demo
from sandbox.server import SandboxServer
from sandbox.world import SandboxClientFactory, World
from tests.sandbox.conftest import (
    ALICE,
    CAROL,
    LOUNGE,
    ME,
    OTHER,
    PASSWORD,
    TARGET,
    Accounts,
    call_json,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _remote_accounts(base_url: str, http: aiohttp.ClientSession) -> Accounts:
    async def scan(url: str, user_id: int) -> None:
        await call_json(
            http, "POST", f"{base_url}/sandbox/world/qr/scan", {"url": url, "user_id": user_id}
        )

    return Accounts(SandboxClientFactory(base_url), scan)


@pytest.fixture
async def remote(sandbox: SandboxServer, http: aiohttp.ClientSession) -> AsyncIterator[Accounts]:
    made = _remote_accounts(sandbox.url, http)
    yield made
    await made.close()


async def test_qr_login_with_2fa_over_loopback_and_session_reuse(
    sandbox: SandboxServer, remote: Accounts, http: aiohttp.ClientSession
) -> None:
    await call_json(
        http, "POST", f"{sandbox.url}/sandbox/world/users/{OTHER}/password", {"password": PASSWORD}
    )
    client = remote.client()
    await client.connect()
    qr = await client.qr_login()
    pending = await call_json(http, "GET", f"{sandbox.url}/sandbox/world/qr")
    assert [t["url"] for t in pending["tokens"]] == [qr.url]

    with pytest.raises(errors.SessionPasswordNeededError):
        await remote.login(OTHER, client=client)
    with pytest.raises(errors.PasswordHashInvalidError):
        await client.sign_in(password="nope")
    assert (await client.sign_in(password=PASSWORD)).id == OTHER
    saved = client.session.save()
    await client.disconnect()

    # A fresh factory and connection, as another process loading the session would have.
    again = SandboxClientFactory(sandbox.url)(saved)
    remote.made.append(again)
    await again.connect()
    assert (await again.get_me()).username == "helper"


async def test_an_idle_connection_without_updates_stays_open(remote: Accounts) -> None:
    """Telegram keeps an idle connection open: an account waiting out the pause between two
    invites (no requests, no updates asked for) still has it when another client connects."""
    waiting = await remote.login(ME)
    await waiting.disconnect()
    quiet = remote.client(waiting.session.save())
    await quiet.set_receive_updates(False)
    await quiet.connect()
    await asyncio.sleep(
        1.5
    )  # idle past the time a connection counts as live for AUTH_KEY_DUPLICATED
    other = await remote.login(OTHER)  # a new connection of another account
    assert (await other.get_me()).id == OTHER
    assert (await quiet.get_me()).id == ME  # the idle one still works


async def test_duplicate_key_invites_faults_and_call_log_over_loopback(
    sandbox: SandboxServer, remote: Accounts, http: aiohttp.ClientSession
) -> None:
    me = await remote.login(ME)
    twin = remote.client(me.session.save())
    with pytest.raises(errors.AuthKeyDuplicatedError):
        await twin.connect()
    await twin.disconnect()
    # The server invalidated the session for both (core.telegram.org/api/errors, 406).
    with pytest.raises(errors.AuthKeyUnregisteredError):
        await me(fn.contacts.ResolveUsernameRequest("lounge"))
    await me.disconnect()
    me = await remote.login(ME)  # a new auth key and a new login

    target = (await me(fn.contacts.SearchRequest(q="Target", limit=5))).chats[0]
    carol = await me.get_input_entity("carol")
    soft = await me(fn.channels.InviteToChannelRequest(target, [carol]))
    assert [m.user_id for m in soft.missing_invitees] == [CAROL]
    with pytest.raises(errors.UserPrivacyRestrictedError):
        await me(fn.channels.InviteToChannelRequest(target, [await me.get_input_entity("bob")]))

    fault = {
        "method": "InviteToChannelRequest",
        "error": "FLOOD_WAIT_30",
        "count": 1,
        "account": ME,
    }
    assert await call_json(http, "POST", f"{sandbox.url}/sandbox/world/faults", fault) == {
        "ok": True
    }
    with pytest.raises(errors.FloodWaitError) as raised:
        await me(fn.channels.InviteToChannelRequest(target, [await me.get_input_entity("alice")]))
    assert raised.value.seconds == 30

    log = await call_json(
        http, "GET", f"{sandbox.url}/sandbox/world/calls?method=InviteToChannelRequest"
    )
    assert [(c["method"], c["account"], c["users"]) for c in log["calls"]] == [
        ("InviteToChannelRequest", ME, [CAROL]),
        ("InviteToChannelRequest", ME, [202]),
        ("InviteToChannelRequest", ME, [ALICE]),
    ]
    assert all(c["at"].endswith("Z") for c in log["calls"])
    everything = await call_json(http, "GET", f"{sandbox.url}/sandbox/world/calls")
    assert {"GetConfigRequest", "ExportLoginTokenRequest"} <= {
        c["method"] for c in everything["calls"]
    }
    members = await call_json(http, "GET", f"{sandbox.url}/sandbox/world/chats/{TARGET}/members")
    assert members == {"members": [ME, OTHER]}


async def test_a_crashed_process_frees_its_auth_key(
    world: World, remote: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world_module, "REMOTE_GRACE_S", 0.3)
    first = await remote.login(ME)
    saved = first.session.save()
    # Crash: the process stops polling and its HTTP connections drop, without a disconnect.
    sender = first._sender
    assert sender._updates_task is not None
    sender._updates_task.cancel()
    await sender._http.close()
    sender._user_connected = False
    remote.made.remove(first)

    await asyncio.sleep(1.5)  # the server notices the dropped poll within about a second
    successor = remote.client(saved)
    await successor.connect()
    assert (await successor.get_me()).id == ME
    await first.disconnect()  # only stops the crashed client's own tasks


async def test_clients_notice_when_the_sandbox_stops(
    world: World, http: aiohttp.ClientSession
) -> None:
    server = await SandboxServer(world=world).start()
    accounts = _remote_accounts(server.url, http)
    try:
        client = await accounts.login(ME)
        await server.stop()

        for _ in range(50):
            if not client.is_connected():
                break
            await asyncio.sleep(0.1)
        assert not client.is_connected()
        with pytest.raises(ConnectionError):
            await client.get_me()
    finally:
        await accounts.close()
        await server.stop()


async def test_control_api_seeds_and_reads_the_world(
    sandbox: SandboxServer, remote: Accounts, http: aiohttp.ClientSession
) -> None:
    base = f"{sandbox.url}/sandbox/world"
    users = {
        "users": [
            {"id": 7001, "username": "fresh_one", "first_name": "Fresh", "last_name": "One",
             "phone": "+15550007001", "premium": True, "photo": True, "last_seen": "week"},
            {"id": 7002, "first_name": "Shy", "invite_outcome": "privacy", "bot": False,
             "scam": True, "deleted": False},
        ]
    }  # fmt: skip
    assert await call_json(http, "POST", f"{base}/users", users) == {"ok": True}
    chat = {
        "id": 970_001,
        "type": "channel",
        "title": "Fresh news",
        "username": "fresh_news",
        "creator": 7001,
        "members": [7001, 7002],
        "admins": {"7001": ["invite_users"]},
        "linked_chat": 970_000,
        "posts": [{"id": 5, "text": "hello", "comments": [{"from": 7002, "text": "hi"}]}],
    }
    first = {"from": 7001, "text": "first", "date": "2024-05-01T10:00:00Z"}
    group = {"id": 970_000, "type": "megagroup", "title": "Fresh chat", "members": [7001]}
    group["messages"] = [first]
    await call_json(http, "POST", f"{base}/chats", group)
    assert await call_json(http, "POST", f"{base}/chats", chat) == {"ok": True}
    by_name = await call_json(http, "GET", f"{base}/chats/fresh_news/members")
    assert by_name == {"members": [7001, 7002]}

    client = remote.client()
    await client.connect()
    await client.send_code_request("+15550007001")
    codes = await call_json(http, "GET", f"{base}/users/7001/login_codes")
    (code,) = codes["codes"]
    assert code["phone"] == "15550007001" and code["valid"] and len(code["code"]) == 5
    me = await client.sign_in("+15550007001", code=code["code"])
    assert me.premium and me.last_name == "One"
    comments = [m.text async for m in client.iter_messages("fresh_news", reply_to=5)]
    assert comments == ["hi"]
    shy = (await client.get_participants("fresh_news"))[0]
    assert shy.id == 7002 and shy.scam and isinstance(shy.status, tt.UserStatusRecently)
    # The comment's answer also introduced the discussion group to the client's cache.
    discussion = await client.get_input_entity(tt.PeerChannel(970_000))
    history = await client.get_messages(discussion, limit=10)
    assert [m.id for m in history] == [3, 2, 1]  # the comment, the post's copy, "first"
    assert history[-1].text == "first" and history[-1].date.year == 2024
    assert history[1].fwd_from.channel_post == 5


async def test_people_chatting_with_the_bot_are_world_users(sandbox: SandboxServer) -> None:
    sandbox.state.user_sends(ALICE, "/start", username="alice_renamed", first_name="Alicia")
    sandbox.state.user_sends(8001, "/start", username="newbie", first_name="Newbie")
    sandbox.state.user_sends(8001, "again")  # no profile given: the world keeps what it knows

    assert sandbox.world.users[ALICE].username == "alice_renamed"
    assert sandbox.world.users[ALICE].first_name == "Alicia"
    newbie = sandbox.world.users[8001]
    assert (newbie.username, newbie.first_name) == ("newbie", "Newbie")
    assert sandbox.world.find_peer("newbie") is newbie


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("users", b"not json", 400),
        ("users", {"users": "x"}, 400),
        ("users", {"users": [{"first_name": "No id"}]}, 400),
        ("users", {"users": [{"id": 0}]}, 400),
        ("users", {"users": [{"id": True}]}, 400),
        ("users", {"users": [{"id": 9001, "last_seen": "yesterday"}]}, 400),
        ("users", {"users": [{"id": 9001, "invite_outcome": "maybe"}]}, 400),
        ("users", {"users": [{"id": 9001, "username": "x y"}]}, 400),
        ("users", {"users": [{"id": 9001, "username": "alice"}]}, 400),
        ("users", {"users": [{"id": 9001}, {"id": 9002, "phone": "+10000000100"}]}, 400),
        ("users", {"users": [{"id": 9001, "colour": "red"}]}, 400),
        ("users", {"users": [{"id": 9001, "premium": "yes"}]}, 400),
        ("users", {"users": [{"id": LOUNGE}]}, 400),
        ("chats", {"id": 9100, "type": "group", "title": "T"}, 400),
        ("chats", {"id": 9100, "type": "forum", "title": "T", "members": []}, 400),
        ("chats", {"id": 9100, "type": "megagroup", "title": " ", "members": []}, 400),
        ("chats", {"id": 9100, "type": "megagroup", "title": "T", "members": [424242]}, 400),
        (
            "chats",
            {
                "id": 9100,
                "type": "megagroup",
                "title": "T",
                "members": [ME],
                "admins": {str(ME): ["fly"]},
            },
            400,
        ),
        (
            "chats",
            {
                "id": 9100,
                "type": "channel",
                "title": "T",
                "members": [ME],
                "posts": [{"id": 1, "comments": [{"from": ME, "text": "x"}]}],
            },
            400,
        ),
        (
            "chats",
            {"id": 9100, "type": "group", "title": "T", "members": [], "username": "grp"},
            400,
        ),
        ("chats", {"id": ME, "type": "megagroup", "title": "T", "members": []}, 400),
        ("users/abc/password", {"password": "x"}, 400),
        ("users/9999/password", {"password": "x"}, 404),
        (f"users/{ME}/password", {"password": ""}, 400),
        ("qr/scan", {"url": "https://example.org", "user_id": ME}, 400),
        ("qr/scan", {"url": "tg://login?token=AAAA", "user_id": ME}, 404),
        ("faults", {"method": "FlyRequest", "error": "PEER_FLOOD", "count": 1}, 400),
        ("faults", {"method": "InviteToChannelRequest", "error": "peer flood", "count": 1}, 400),
        ("faults", {"method": "InviteToChannelRequest", "error": "PEER_FLOOD", "count": 0}, 400),
        (
            "faults",
            {"method": "InviteToChannelRequest", "error": "PHONE_MIGRATE_4", "count": 1},
            400,
        ),
        ("faults", {"method": "InviteToChannelRequest", "error": "PEER_FLOOD"}, 400),
    ],
)
async def test_control_api_validation(
    sandbox: SandboxServer, http: aiohttp.ClientSession, path: str, body: Any, status: int
) -> None:
    url = f"{sandbox.url}/sandbox/world/{path}"
    data = body if isinstance(body, bytes) else None
    async with http.post(url, data=data, json=None if data else body) as response:
        answer = await response.json()
    assert response.status == status, answer
    assert set(answer) == {"error"} and answer["error"]["code"] in {"invalid_input", "not_found"}
    assert answer["error"]["message"]
    assert 9001 not in sandbox.world.users and 9100 not in sandbox.world.chats


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("chats/nochat_here/members", 404),
        ("chats/123456/members", 404),
        ("chats/bad%20name/members", 400),
        ("users/9999/login_codes", 404),
        ("users/-1/login_codes", 400),
        ("calls?method=Nope", 400),
    ],
)
async def test_control_api_unknowns(
    sandbox: SandboxServer, http: aiohttp.ClientSession, path: str, status: int
) -> None:
    async with http.get(f"{sandbox.url}/sandbox/world/{path}") as response:
        assert response.status == status
        assert "error" in await response.json()


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    return {**env, "SANDBOX_HOST": "127.0.0.1", **overrides}


async def test_python_m_sandbox_serves_one_world_to_several_clients(
    http: aiohttp.ClientSession,
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        cwd=PROJECT_ROOT,
        env=_env(SANDBOX_PORT="0"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    made: list[Accounts] = []
    try:
        assert process.stdout is not None
        first = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
        url = first.rsplit(" ", 1)[1]
        second = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        assert "demo world" in second and "@alice" in second

        alice_side, bob_side = _remote_accounts(url, http), _remote_accounts(url, http)
        made += [alice_side, bob_side]
        alice = await alice_side.login(1001)
        bob = await bob_side.login(1002, password="demo-password")

        news = await alice.get_entity("sandbox_news")
        commenters = {m.sender_id async for m in alice.iter_messages(news, reply_to=2)}
        lounge = await bob.get_participants("sandbox_lounge")
        assert commenters and len(lounge) > 40
        # One world: what Bob does, Alice sees.
        target = (await bob(fn.contacts.SearchRequest(q="Sandbox Target", limit=5))).chats[0]
        await bob(
            fn.channels.InviteToChannelRequest(target, [await bob.get_input_entity("member_2")])
        )
        members = await call_json(http, "GET", f"{url}/sandbox/world/chats/{target.id}/members")
        assert members["members"][-1] == 100002
        alice_target = (await alice(fn.contacts.SearchRequest(q="Sandbox Target", limit=5))).chats[
            0
        ]
        assert 100002 in {u.id for u in await alice.get_participants(alice_target)}
    finally:
        for accounts in made:
            await accounts.close()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()
    assert process.returncode == 0


async def test_python_m_sandbox_without_the_demo(http: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        cwd=PROJECT_ROOT,
        env=_env(SANDBOX_PORT="0", SANDBOX_DEMO="off"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        url = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().split()[-1]
        second = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        assert "empty world" in second
        async with http.get(f"{url}/sandbox/world/chats/sandbox_lounge/members") as response:
            assert response.status == 404
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 5)


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, True), ("", True), ("ON", True), ("off", False)]
)
def test_sandbox_demo_setting(raw: str | None, expected: bool) -> None:
    assert parse_demo(raw) is expected
    with pytest.raises(ValueError):
        parse_demo("maybe")
