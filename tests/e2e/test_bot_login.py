"""Web login end to end: the real bot on the sandbox's Bot API, the real API, one database.

The bot long-polls the sandbox exactly as it would poll Telegram; the test acts as the user
through the sandbox control API and as the browser through the HTTP API.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_dispatcher, create_bot
from bot.linking import PendingLogins
from bot.notices import cancel_and_wait, run_notices
from core.accounts import build_account_service
from core.i18n import t
from core.logincodes import CODE_ALPHABET, CODE_LENGTH
from core.settings import SANDBOX_BOT_TOKEN, Settings
from db.kv import RedisNotifier
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import SandboxClientFactory
from tests.sandbox_helpers import SandboxChat

pytestmark = pytest.mark.e2e

CODE_TOKEN = re.compile(rf"(?<![A-Za-z0-9])[{CODE_ALPHABET}]{{{CODE_LENGTH}}}(?![A-Za-z0-9])")
USER_ID = 7001
BROWSER = "E2E-Browser/1.0"


@dataclass
class Stack:
    chat: SandboxChat
    http: aiohttp.ClientSession
    api_url: str


@pytest.fixture
async def stack(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[Stack]:
    from webui_api.app import init_app

    sandbox = await SandboxServer(SANDBOX_BOT_TOKEN).start()
    e2e_settings = settings.model_copy(update={"bot_api_url": sandbox.url})
    assert e2e_settings.effective_bot_api_url == sandbox.url

    runner = web.AppRunner(init_app(e2e_settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]

    bot = create_bot(e2e_settings)
    gateway = TelegramGateway(SandboxClientFactory(sandbox.url))
    accounts = build_account_service(e2e_settings, RedisNotifier(redis))
    logins = PendingLogins(gateway, accounts, sessionmaker)
    dp = build_dispatcher(
        settings=e2e_settings,
        sessionmaker=sessionmaker,
        redis=redis,
        gateway=gateway,
        accounts=accounts,
        logins=logins,
    )
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False)
    )
    notices = asyncio.create_task(run_notices(bot, redis, sessionmaker, block_ms=200))
    http = aiohttp.ClientSession()
    try:
        yield Stack(chat=SandboxChat(sandbox.url, http), http=http, api_url=f"http://{host}:{port}")
    finally:
        await http.close()
        await dp.stop_polling()
        await polling
        await cancel_and_wait(notices)
        await logins.close()
        await bot.session.close()
        await runner.cleanup()
        await sandbox.stop()


async def test_login_with_code_from_bot_and_notice(stack: Stack) -> None:
    chat = stack.chat
    profile = {"username": "E2E_Eve", "first_name": "Eve", "language_code": "ru"}

    sent = await chat.send(USER_ID, "/start", **profile)
    greeting = await chat.wait_for(USER_ID, lambda m: bool(m["text"]), after=sent)
    assert greeting["text"] == t("ru", "start.new", name="Eve")

    sent = await chat.send(USER_ID, "/web_auth", **profile)
    reply = await chat.wait_for(USER_ID, lambda m: bool(m["text"]), after=sent)
    codes = CODE_TOKEN.findall(reply["text"])
    assert len(codes) == 1, reply["text"]
    code = codes[0]
    assert "@e2e_eve" in reply["text"]

    headers = {"User-Agent": BROWSER}
    async with stack.http.post(
        f"{stack.api_url}/api/v1/auth/verify",
        json={"username": "@E2E_eve", "code": code.lower()},
        headers=headers,
    ) as resp:
        assert resp.status == 200, await resp.text()
        tokens = await resp.json()
    assert tokens["access_token"]

    async with stack.http.get(
        f"{stack.api_url}/api/v1/me",
        headers={**headers, "Authorization": f"Bearer {tokens['access_token']}"},
    ) as resp:
        assert resp.status == 200, await resp.text()
        me = await resp.json()
    assert me["telegram_id"] == USER_ID and me["username"] == "E2E_Eve"

    head = t("ru", "web_auth.notice").split("\n")[0]
    notice = await chat.wait_for(
        USER_ID, lambda m: (m["text"] or "").startswith(head), after=reply["id"]
    )
    assert "IP: 127.0.0.1" in notice["text"]
    assert BROWSER in notice["text"]

    # The code worked once: the same code again is refused like any wrong code.
    async with stack.http.post(
        f"{stack.api_url}/api/v1/auth/verify", json={"username": "e2e_eve", "code": code}
    ) as resp:
        assert resp.status == 401
