"""`python -m bot` as its own process: answers through the sandbox, stops cleanly on signals."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands import COMMANDS
from core.i18n import t
from core.settings import PROJECT_ROOT, SANDBOX_BOT_TOKEN
from sandbox.server import SandboxServer
from tests.sandbox_helpers import SandboxChat

pytestmark = pytest.mark.e2e


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


async def _my_commands(
    http: aiohttp.ClientSession, api_url: str, language: str
) -> list[dict[str, str]]:
    params = {"language_code": language} if language != "en" else {}
    async with http.post(f"{api_url}/bot{SANDBOX_BOT_TOKEN}/getMyCommands", data=params) as resp:
        body = await resp.json()
    assert body["ok"], body
    return list(body["result"])


def _env(test_env: dict[str, str], bot_api_url: str) -> dict[str, str]:
    env = {**os.environ, **test_env, "SANDBOX": "on", "BOT_API_URL": bot_api_url}
    env.pop("BOT_TOKEN", None)
    return env


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_bot_process_answers_and_exits_zero_on_signal(
    test_env: dict[str, str], engine: AsyncEngine, redis: Redis, signum: signal.Signals
) -> None:
    async with SandboxServer(SANDBOX_BOT_TOKEN) as sandbox:
        proc = await _spawn_bot(_env(test_env, sandbox.url))
        try:
            async with aiohttp.ClientSession() as http:
                chat = SandboxChat(sandbox.url, http)
                sent = await chat.send(8001, "/start", first_name="Proc", language_code="en")
                reply = await chat.wait_for(8001, lambda m: bool(m["text"]), timeout=30, after=sent)
                assert reply["text"] == t("en", "start.new", name="Proc")
                # The command menu is set before polling starts, in both languages.
                for language in ("en", "ru"):
                    menu = await _my_commands(http, sandbox.url, language)
                    assert menu == [
                        {"command": c, "description": t(language, f"cmd.{c}")} for c in COMMANDS
                    ]
        finally:
            proc.send_signal(signum)
            output, _ = await asyncio.wait_for(proc.communicate(), 30)
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "bot stopped" in text
    assert "Traceback" not in text, text
    assert SANDBOX_BOT_TOKEN not in text


async def test_bot_waiting_for_bot_api_stops_on_sigterm(
    test_env: dict[str, str], engine: AsyncEngine, redis: Redis, free_port: int
) -> None:
    proc = await _spawn_bot(_env(test_env, f"http://127.0.0.1:{free_port}"))
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    while b"Bot API not reachable yet" not in line:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
    proc.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, output.decode(errors="replace")
