"""Collecting end to end: `python -m bot` and `python -m workers` as real processes.

The person in the chat searches, collects with /parse and with a search result's button,
watches the one progress message turn into a summary (edited by the bot on the workers'
notices), and exports the audience as a CSV document.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.i18n import t
from core.settings import PROJECT_ROOT, SANDBOX_BOT_TOKEN, Settings
from db.dal import open_dal
from gateway.telegram import TelegramGateway
from sandbox.server import SandboxServer
from sandbox.world import SandboxClientFactory, World
from tests.sandbox_helpers import Message, SandboxChat
from tests.search_world import PEOPLE, link_account, seed_communities

pytestmark = pytest.mark.e2e

OWNER = 7301
PROFILE = {"username": "parse_owner", "first_name": "Owner", "language_code": "en"}
WAIT_S = 60.0


@dataclass
class Stack:
    sandbox: SandboxServer
    world: World
    chat: SandboxChat

    async def say(self, text: str) -> int:
        return await self.chat.send(OWNER, text, **PROFILE)

    async def message(self, message_id: int) -> Message:
        return next(m for m in await self.chat.messages(OWNER) if m["id"] == message_id)


async def _spawn(module: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _stop(proc: asyncio.subprocess.Process) -> str:
    if proc.returncode is None:
        proc.terminate()
    output, _ = await asyncio.wait_for(proc.communicate(), 30)
    return output.decode(errors="replace")


@pytest.fixture
async def stack(
    test_env: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[Stack]:
    world = seed_communities(World())
    sandbox = await SandboxServer(SANDBOX_BOT_TOKEN, world=world).start()
    port = int(sandbox.url.rsplit(":", 1)[1])
    env = {
        **os.environ,
        **test_env,
        "SANDBOX": "on",
        "SANDBOX_PORT": str(port),
        "PARSE_DELAY_SCALE": "0",
    }
    for name in (
        "BOT_TOKEN",
        "BOT_API_URL",
        "SANDBOX_HOST",
        "TELEGRAM_API_ID",
        "TELEGRAM_API_HASH",
    ):
        env.pop(name, None)
    processes = [await _spawn("bot", env), await _spawn("workers", env)]
    http = aiohttp.ClientSession()
    outputs: list[str] = []
    try:
        yield Stack(sandbox, world, SandboxChat(sandbox.url, http))
    finally:
        await http.close()
        for proc in processes:
            outputs.append(await _stop(proc))
        await sandbox.stop()
    for output in outputs:
        assert "Traceback" not in output, output


def _summary(m: Message, collected: int) -> bool:
    return (
        t("en", "task.summary_done", collected=collected, new=collected, known=0, skipped=0)
        in m["text"]
    )


async def test_search_parse_progress_and_export(
    stack: Stack, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    sent = await stack.say("/start")
    await stack.chat.wait_for(OWNER, lambda m: bool(m["text"]), WAIT_S, after=sent)
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(OWNER)
        assert user is not None
        workspace_id = (await dal.list_workspaces(user.id))[0].id
    gateway = TelegramGateway(SandboxClientFactory(stack.sandbox.url))
    await link_account(stack.world, gateway, sessionmaker, settings, user.id, workspace_id)

    # /parse: one message, acknowledged at once, then edited into the summary.
    sent = await stack.say("/parse @crypto_lounge")
    ack = await stack.chat.wait_for(
        OWNER, lambda m: m["text"].startswith("Collection #"), WAIT_S, after=sent
    )
    done = await stack.chat.wait_for(
        OWNER, lambda m: m["id"] == ack["id"] and _summary(m, 30), WAIT_S, after=sent
    )
    assert done["edited"] and done["buttons"] == []
    assert t("en", "task.summary_audience", audience="@crypto_lounge", size=30) in done["text"]

    # /search, then one tap collects the commenters of the channel.
    sent = await stack.say("/search crypto")
    results = await stack.chat.wait_for(
        OWNER,
        lambda m: m["text"].startswith(t("en", "search.title", keywords="crypto")),
        WAIT_S,
        after=sent,
    )
    button = next(
        b for row in results["buttons"] for b in row if b["data"].endswith(":c:crypto_news")
    )
    await stack.chat.press(OWNER, results["id"], button["data"])
    ack = await stack.chat.wait_for(
        OWNER,
        lambda m: "@crypto_news" in m["text"] and "Collection #" in m["text"],
        WAIT_S,
        after=results["id"],
    )
    await stack.chat.wait_for(
        OWNER, lambda m: m["id"] == ack["id"] and _summary(m, 4), WAIT_S, after=results["id"]
    )

    # /audiences: export the first one as a CSV document.
    sent = await stack.say("/audiences")
    listing = await stack.chat.wait_for(
        OWNER, lambda m: m["text"].startswith(t("en", "audiences.title")), WAIT_S, after=sent
    )
    export = next(
        b for row in listing["buttons"] for b in row if b["data"].startswith("au:export:")
    )
    await stack.chat.press(OWNER, listing["id"], export["data"])
    document = await stack.chat.wait_for(
        OWNER, lambda m: m["document"] is not None, WAIT_S, after=listing["id"]
    )
    assert document["document"]["file_name"].startswith("audience-")
    rows = list(csv.reader(io.StringIO((await stack.chat.file(OWNER, document["id"])).decode())))
    assert rows[0][0] == "user_id"
    assert sorted(int(r[0]) for r in rows[1:]) == PEOPLE[:30]
