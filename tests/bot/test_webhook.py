"""A real bot token against a Bot API with webhooks: `python -m bot` as its own process.

The sandbox stands in for the Bot API server (BOT_API_URL) with SANDBOX=off, so the bot runs
exactly as with a token from @BotFather: it removes a webhook left by an earlier deployment
before long polling, and in webhook mode it sets its own and refuses requests without the
secret token.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from core.i18n import t
from core.settings import PROJECT_ROOT
from sandbox.botapi import WEBHOOK_ACTIVE
from sandbox.server import SandboxServer
from tests.sandbox_helpers import SandboxChat

pytestmark = pytest.mark.e2e

TOKEN = "7100200300:AAE_real-looking-token-0123456789abcd"
USER = 8101
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _env(test_env: dict[str, str], bot_api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "TELEGRAM_"))}
    return {
        **env,
        **test_env,
        "SANDBOX": "off",
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_ID": "12345",
        "TELEGRAM_API_HASH": "0123456789abcdef0123456789abcdef",
        "BOT_API_URL": bot_api_url,
        **extra,
    }


async def _spawn_bot(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _stop(proc: asyncio.subprocess.Process) -> str:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(proc.communicate(), 30)
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "bot stopped" in text and "Traceback" not in text, text
    assert TOKEN not in text
    return text


async def _api(
    http: aiohttp.ClientSession, sandbox: SandboxServer, method: str, **params: Any
) -> Any:
    async with http.post(f"{sandbox.url}/bot{TOKEN}/{method}", json=params) as response:
        return await response.json()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_polling_bot_removes_a_leftover_webhook_and_gets_the_waiting_start(
    test_env: dict[str, str], engine: AsyncEngine, redis: Redis, http: aiohttp.ClientSession
) -> None:
    async with SandboxServer(TOKEN) as sandbox:
        chat = SandboxChat(sandbox.url, http)
        # The token served a webhook deployment before; its server is gone.
        old = await _api(
            http, sandbox, "setWebhook", url="https://old.example.org/hook", secret_token="old"
        )
        assert old["ok"], old
        sent = await chat.send(USER, "/start", first_name="Real", language_code="en")
        refused = await _api(http, sandbox, "getUpdates")
        assert refused == {"ok": False, "error_code": 409, "description": WEBHOOK_ACTIVE}

        proc = await _spawn_bot(_env(test_env, sandbox.url))
        try:
            reply = await chat.wait_for(USER, lambda m: bool(m["text"]), timeout=30, after=sent)
            assert reply["text"] == t("en", "start.new", name="Real")
            info = await _api(http, sandbox, "getWebhookInfo")
            assert info["result"]["url"] == "" and info["result"]["pending_update_count"] == 0
        finally:
            output = await _stop(proc)
    assert "removing it to use long polling" in output and "old.example.org" in output


async def test_webhook_mode_sets_the_webhook_and_checks_the_secret(
    test_env: dict[str, str],
    engine: AsyncEngine,
    redis: Redis,
    http: aiohttp.ClientSession,
    free_port: int,
) -> None:
    secret = "hook_" + secrets.token_urlsafe(24)
    hook_url = f"http://127.0.0.1:{free_port}/tg/updates"
    async with SandboxServer(TOKEN) as sandbox:
        chat = SandboxChat(sandbox.url, http)
        env = _env(
            test_env,
            sandbox.url,
            WEBHOOK_URL=hook_url,
            WEBHOOK_SECRET=secret,
            WEBHOOK_PORT=str(free_port),
        )
        proc = await _spawn_bot(env)
        try:
            deadline = time.monotonic() + 30
            while sandbox.state.webhook is None:
                assert time.monotonic() < deadline, "the bot never set its webhook"
                assert proc.returncode is None, (await proc.communicate())[0].decode()
                await asyncio.sleep(0.1)
            assert sandbox.state.webhook.url == hook_url
            assert sandbox.state.webhook.secret_token == secret

            # Telegram (the sandbox) POSTs the update with the secret; the bot answers.
            sent = await chat.send(USER, "/start", first_name="Hook", language_code="en")
            reply = await chat.wait_for(USER, lambda m: bool(m["text"]), timeout=30, after=sent)
            assert reply["text"] == t("en", "start.new", name="Hook")
            assert (await _api(http, sandbox, "getUpdates"))["error_code"] == 409

            # Someone who learnt the URL but not the secret is refused and changes nothing.
            forged = _update(900_001, "/help")
            for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: secret + "x"}):
                async with http.post(hook_url, json=forged, headers=headers) as response:
                    assert response.status == 401
            await asyncio.sleep(1.0)
            assert [m["id"] for m in await chat.messages(USER)][-1] == reply["id"]

            # The same update with the secret is handled: the refusal above was the secret's.
            async with http.post(
                hook_url, json=forged, headers={SECRET_HEADER: secret}
            ) as response:
                assert response.status == 200
            helped = await chat.wait_for(
                USER, lambda m: bool(m["text"]), timeout=15, after=reply["id"]
            )
            assert helped["text"] == t("en", "help")
        finally:
            output = await _stop(proc)
    assert "webhook mode" in output and secret not in output


def _update(update_id: int, text: str) -> dict[str, Any]:
    """An Update as Telegram sends it for a private text message from USER."""
    user = {"id": USER, "is_bot": False, "first_name": "Hook", "language_code": "en"}
    message: dict[str, Any] = {
        "message_id": 10_000 + update_id % 1000,
        "from": user,
        "chat": {"id": USER, "type": "private", "first_name": "Hook"},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def test_a_webhook_telegram_refuses_stops_the_bot_with_its_reason(
    test_env: dict[str, str], engine: AsyncEngine, redis: Redis, free_port: int
) -> None:
    # Allowed by the settings (a local Bot API server takes http), refused by this server.
    async with SandboxServer(TOKEN) as sandbox:
        env = _env(
            test_env,
            sandbox.url,
            WEBHOOK_URL="http://bot.example.org/tg/updates",
            WEBHOOK_SECRET="abc",
            WEBHOOK_PORT=str(free_port),
        )
        proc = await _spawn_bot(env)
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert sandbox.state.webhook is None
    text = output.decode(errors="replace")
    assert proc.returncode == 2, text
    assert "Telegram refused the webhook (WEBHOOK_URL)" in text
    assert "An HTTPS URL must be provided for webhook" in text
    assert "Traceback" not in text and "bot stopped" in text
