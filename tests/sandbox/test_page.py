"""The sandbox page and the control calls it reads: the page and its files are served (and
not at all when the page is off), the world can be listed whole, a chat shows who joined when
and who added them, the call log says how each call ended, and pending faults are listed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from telethon import TelegramClient, errors
from telethon.tl import functions as fn

from core.settings import PROJECT_ROOT
from sandbox.page import ASSET_PREFIX, WEB_DIR, load_assets
from sandbox.server import SandboxServer
from sandbox.world import World
from tests.sandbox.conftest import ALICE, BOB, LOUNGE, ME, OTHER, TARGET, call_json

SCRIPTS = sorted(WEB_DIR.glob("*.js"))
LITERAL_KEY = re.compile(r"""\bt\([`']([\w.]+)[`']""")
CATALOG_KEY = re.compile(r"""^\s*'([\w.]+)':""", re.MULTILINE)


# ---- the page ------------------------------------------------------------------------------
async def test_the_page_and_its_files_are_served_from_one_origin(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(sandbox.url + "/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        policy = response.headers["Content-Security-Policy"]
        etag = response.headers["ETag"]
        page = await response.text()
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "default-src 'none'" in policy
    async with http.get(sandbox.url + "/", headers={"If-None-Match": etag}) as response:
        assert response.status == 304

    # Everything the page names, and everything its modules import, is served.
    named = re.findall(rf'"{ASSET_PREFIX}([\w.-]+)"', page)
    imported = [
        n for path in SCRIPTS for n in re.findall(r"""from '\./([\w.-]+)'""", path.read_text())
    ]
    assert "app.js" in named and imported
    for name in {*named, *imported}:
        async with http.get(sandbox.url + ASSET_PREFIX + name) as response:
            assert response.status == 200, name
            assert response.headers["Cache-Control"] == "no-cache"
    for name in ("index.html", "nothing.js", "..%2Fpage.py"):
        async with http.get(sandbox.url + ASSET_PREFIX + name) as response:
            assert response.status == 404, name


async def test_without_the_page_its_paths_answer_404(http: aiohttp.ClientSession) -> None:
    async with SandboxServer(page=False) as sandbox:
        for path in ("/", ASSET_PREFIX + "app.js"):
            async with http.get(sandbox.url + path) as response:
                assert response.status == 404, path
        # The rest of the sandbox is unchanged.
        assert await call_json(http, "GET", f"{sandbox.url}/sandbox/health") == {"ok": True}


async def test_python_m_sandbox_says_where_the_page_is(http: aiohttp.ClientSession) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        cwd=PROJECT_ROOT,
        env={**env, "SANDBOX_PORT": "0"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines = [
            (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
            for _ in range(3)
        ]
        prefix = "sandbox: chat with the bot in a browser: http://127.0.0.1:"
        assert lines[2].startswith(prefix) and lines[2].endswith("/"), lines
        async with http.get(lines[2].rsplit(" ", 1)[1]) as response:
            assert response.status == 200 and response.content_type == "text/html"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 5) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _catalog(language: str) -> set[str]:
    source = (WEB_DIR / "texts.js").read_text()
    block = source.split(f"const {language} = {{", 1)[1].split("\n};", 1)[0]
    return set(CATALOG_KEY.findall(block))


def test_the_page_has_every_text_in_both_languages() -> None:
    en, ru = _catalog("en"), _catalog("ru")
    assert en and en == ru, sorted(en ^ ru)
    used = {key for path in SCRIPTS for key in LITERAL_KEY.findall(path.read_text())}
    assert used and used <= en, sorted(used - en)


def test_the_page_puts_data_in_as_text_only() -> None:
    assert {p.name for p in SCRIPTS} <= set(load_assets())
    for path in SCRIPTS:
        source = path.read_text()
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ):
            assert sink not in source, f"{path.name} uses {sink}"
    page = (WEB_DIR / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", page) == [
        f'<script type="module" src="{ASSET_PREFIX}app.js">'
    ]
    assert "style=" not in page and not re.search(r"\son\w+=", page)


# ---- the control calls the page reads ------------------------------------------------------
async def test_users_and_chats_are_listed_whole(
    sandbox: SandboxServer, world: World, http: aiohttp.ClientSession
) -> None:
    world.set_password(OTHER, "pw")
    users = (await call_json(http, "GET", f"{sandbox.url}/sandbox/world/users"))["users"]
    assert [u["id"] for u in users] == sorted(world.users)
    me = next(u for u in users if u["id"] == ME)
    assert me == {
        "id": ME,
        "first_name": "Worker",
        "last_name": None,
        "username": "worker",
        "phone": "+10000000100",
        "bot": False,
        "deleted": False,
        "invite_outcome": "ok",
        "dc": 2,
        "password": False,
    }
    assert next(u for u in users if u["id"] == OTHER)["password"] is True
    assert next(u for u in users if u["id"] == BOB)["invite_outcome"] == "privacy"

    chats = (await call_json(http, "GET", f"{sandbox.url}/sandbox/world/chats"))["chats"]
    assert [c["id"] for c in chats] == sorted(world.chats)
    lounge = next(c for c in chats if c["id"] == LOUNGE)
    assert lounge == {
        "id": LOUNGE,
        "type": "megagroup",
        "title": "Lounge",
        "username": "lounge",
        "creator": ME,
        "hidden_members": False,
        "linked_chat": None,
        "member_count": 4,
    }


async def test_a_chat_shows_who_joined_when_and_who_added_them(
    sandbox: SandboxServer, world: World, me: TelegramClient, http: aiohttp.ClientSession
) -> None:
    before = await call_json(http, "GET", f"{sandbox.url}/sandbox/world/chats/{TARGET}")
    assert [m["id"] for m in before["members"]] == [ME, OTHER]
    assert before["admins"] == {} and before["creator"] == ME

    target = (await me(fn.contacts.SearchRequest(q="Target", limit=5))).chats[0]
    await me(fn.channels.InviteToChannelRequest(target, [await me.get_input_entity("alice")]))
    with pytest.raises(errors.UserPrivacyRestrictedError):
        await me(fn.channels.InviteToChannelRequest(target, [await me.get_input_entity("bob")]))

    after = await call_json(http, "GET", f"{sandbox.url}/sandbox/world/chats/{TARGET}")
    assert after["member_count"] == 3
    joined = after["members"][-1]
    assert (joined["id"], joined["inviter"]) == (ALICE, ME)
    assert joined["joined_at"] > before["members"][-1]["joined_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", joined["joined_at"])
    by_name = await call_json(http, "GET", f"{sandbox.url}/sandbox/world/chats/lounge")
    assert by_name["id"] == LOUNGE

    calls = await call_json(
        http, "GET", f"{sandbox.url}/sandbox/world/calls?method=InviteToChannelRequest"
    )
    assert [(c["users"], c["error"]) for c in calls["calls"]] == [
        ([ALICE], None),
        ([BOB], "USER_PRIVACY_RESTRICTED"),
    ]

    for path, status in (
        ("chats/999999", 404),
        ("chats/no_such_chat", 404),
        ("chats/bad%20name", 400),
    ):
        await call_json(http, "GET", f"{sandbox.url}/sandbox/world/{path}", status=status)


async def test_pending_faults_are_listed_until_used(
    sandbox: SandboxServer, me: TelegramClient, http: aiohttp.ClientSession
) -> None:
    url = f"{sandbox.url}/sandbox/world/faults"
    assert await call_json(http, "GET", url) == {"faults": []}
    await call_json(
        http,
        "POST",
        url,
        {"method": "channels.InviteToChannel", "error": "PEER_FLOOD", "count": 2, "account": ME},
    )
    await call_json(
        http,
        "POST",
        url,
        {"method": "GetParticipantsRequest", "error": "FLOOD_WAIT_60", "count": 1},
    )
    assert (await call_json(http, "GET", url))["faults"] == [
        {
            "method": "channels.InviteToChannelRequest",
            "error": "PEER_FLOOD",
            "remaining": 2,
            "account": ME,
        },
        {
            "method": "GetParticipantsRequest",
            "error": "FLOOD_WAIT_60",
            "remaining": 1,
            "account": None,
        },
    ]
    with pytest.raises(errors.PeerFloodError):
        target = (await me(fn.contacts.SearchRequest(q="Target", limit=5))).chats[0]
        await me(fn.channels.InviteToChannelRequest(target, [await me.get_input_entity("alice")]))
    assert [f["remaining"] for f in (await call_json(http, "GET", url))["faults"]] == [1, 1]


async def test_messages_carry_their_dates(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    bot = Bot(
        sandbox.bot_token, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url))
    )
    try:
        await call_json(
            http, "POST", f"{sandbox.url}/sandbox/chat/{ALICE}/send", {"text": "/start"}
        )
        sent = await bot.send_message(ALICE, "first")
        await bot.edit_message_text("second", chat_id=ALICE, message_id=sent.message_id)
    finally:
        await bot.session.close()
    messages = (await call_json(http, "GET", f"{sandbox.url}/sandbox/chat/{ALICE}/messages"))[
        "messages"
    ]
    mine, reply = messages
    assert isinstance(mine["date"], int) and mine["edit_date"] is None
    assert reply["text"] == "second" and reply["edited"]
    assert reply["date"] >= mine["date"] and reply["edit_date"] >= reply["date"]
