"""Linking accounts end to end: `python -m bot` and `python -m workers` as real processes.

The sandbox runs in the test process; the bot long-polls its Bot API and drives real
Telethon clients on its world over loopback. The test plays the person in the chat (chat
control API) and that person's phones (world control API: scanning the QR code, reading the
login code). Sessions linked by the bot are then used by separate worker processes.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import zxingcpp
from PIL import Image
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.dto import AccountStatus
from core.i18n import t
from core.settings import PROJECT_ROOT, SANDBOX_BOT_TOKEN, Settings
from db.dal import open_dal
from db.models import TelegramAccount
from sandbox.server import SandboxServer
from sandbox.world import SandboxClientFactory, World
from tests.sandbox_helpers import Message, SandboxChat, format_transcript

pytestmark = pytest.mark.e2e

OWNER = 7101  # the person chatting with the bot; also a Telegram user of the world
HELPER, PHONEY = 7201, 7202
PASSWORD = "e2e-s3cret"
LANG = "ru"
PROFILE = {"username": "e2e_owner", "first_name": "Owner", "language_code": LANG}
REPLY_S = 30.0


@dataclass
class Stack:
    sandbox: SandboxServer
    chat: SandboxChat
    http: aiohttp.ClientSession
    env: dict[str, str]
    bot: asyncio.subprocess.Process

    async def world(self, method: str, tail: str, body: Any = None) -> Any:
        url = f"{self.sandbox.url}/sandbox/world/{tail}"
        async with self.http.request(method, url, json=body) as response:
            answer = await response.json()
            assert response.status == 200, (url, answer)
            return answer

    async def say(self, text: str) -> int:
        return await self.chat.send(OWNER, text, **PROFILE)

    async def reply(self, after: int, text: str, timeout: float = REPLY_S) -> Message:
        """The bot's message with exactly `text`, sent (or edited) after message `after`."""
        return await self.chat.wait_for(OWNER, lambda m: m["text"] == text, timeout, after=after)


def _env(test_env: dict[str, str], port: int) -> dict[str, str]:
    env = {**os.environ, **test_env, "SANDBOX": "on", "SANDBOX_PORT": str(port)}
    for name in (
        "BOT_TOKEN",
        "BOT_API_URL",
        "SANDBOX_HOST",
        "TELEGRAM_API_ID",
        "TELEGRAM_API_HASH",
    ):
        env.pop(name, None)
    return env


@pytest.fixture
async def stack(
    test_env: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> AsyncIterator[Stack]:
    sandbox = await SandboxServer(SANDBOX_BOT_TOKEN, world=World()).start()
    port = int(sandbox.url.rsplit(":", 1)[1])
    env = _env(test_env, port)
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    http = aiohttp.ClientSession()
    try:
        yield Stack(sandbox, SandboxChat(sandbox.url, http), http, env, bot)
    finally:
        await http.close()
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await sandbox.stop()


async def _stop_bot(stack: Stack) -> str:
    stack.bot.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(stack.bot.communicate(), 30)
    text = output.decode(errors="replace")
    assert stack.bot.returncode == 0, text
    assert "Traceback" not in text, text
    return text


async def _check_accounts(stack: Stack) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workers",
        "check-accounts",
        cwd=PROJECT_ROOT,
        env=stack.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), 60)
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "Traceback" not in text, text
    return text


async def _qr_url(stack: Stack, after: int) -> tuple[Message, str]:
    photo = await stack.chat.wait_for(OWNER, lambda m: m["photo"], REPLY_S, after=after)
    png = await stack.chat.file(OWNER, photo["id"])
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert barcode.text.startswith("tg://login?token="), barcode.text
    return photo, barcode.text


async def _rows(sm: async_sessionmaker[AsyncSession]) -> dict[int, TelegramAccount]:
    async with sm() as session:
        rows = (await session.scalars(select(TelegramAccount))).all()
    return {row.tg_user_id: row for row in rows}


async def _calls(stack: Stack, method: str) -> list[dict[str, Any]]:
    return list((await stack.world("GET", f"calls?method={method}"))["calls"])


async def test_link_unlink_and_use_linked_sessions_from_workers(
    stack: Stack, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await stack.world(
        "POST",
        "users",
        {
            "users": [
                {"id": HELPER, "first_name": "Helper", "username": "e2e_helper"},
                {"id": PHONEY, "first_name": "Phoney", "phone": "+15550007202"},
            ]
        },
    )
    await stack.world("POST", f"users/{HELPER}/password", {"password": PASSWORD})
    sent = await stack.say("/start")
    await stack.reply(sent, t(LANG, "start.new", name="Owner"))

    # 1. QR code, no 2FA: the person links the account they chat from.
    sent = await stack.say("/link")
    photo, url = await _qr_url(stack, sent)
    assert photo["text"] == t(LANG, "linking.qr_caption", minutes=5)
    assert [b["text"] for row in photo["buttons"] for b in row] == [t(LANG, "linking.qr_refresh")]
    await stack.world("POST", "qr/scan", {"url": url, "user_id": OWNER})
    await stack.reply(photo["id"], t(LANG, "linking.linked", account="@e2e_owner"))

    # 2. QR code with 2FA: a wrong password, then the right one; both messages deleted.
    sent = await stack.say("/link")
    photo, url = await _qr_url(stack, sent)
    await stack.world("POST", "qr/scan", {"url": url, "user_id": HELPER})
    asked = await stack.reply(photo["id"], t(LANG, "linking.password_ask"))
    wrong = await stack.say("not-the-password")
    await stack.reply(wrong, t(LANG, "linking.password_wrong", left=2))
    right = await stack.say(PASSWORD)
    await stack.reply(right, t(LANG, "linking.linked", account="@e2e_helper"))
    messages = {m["id"]: m for m in await stack.chat.messages(OWNER)}
    assert messages[wrong]["deleted"] and messages[right]["deleted"], format_transcript(
        list(messages.values())
    )
    assert not messages[asked["id"]]["deleted"]

    # 3. Phone number and the code "Telegram" sent, typed with spaces.
    sent = await stack.say("/link_phone")
    await stack.reply(sent, t(LANG, "linking.phone_ask"))
    sent = await stack.say("+1 555 000 72 02")
    await stack.reply(sent, t(LANG, "linking.code_ask", phone="+1********02"))
    codes = (await stack.world("GET", f"users/{PHONEY}/login_codes"))["codes"]
    code = [c["code"] for c in codes if c["valid"]][-1]
    sent = await stack.say(" ".join(code))
    await stack.reply(sent, t(LANG, "linking.linked", account="Phoney"))

    rows = await _rows(sessionmaker)
    assert set(rows) == {OWNER, HELPER, PHONEY}
    assert {row.status for row in rows.values()} == {AccountStatus.ACTIVE}

    # 4. Unlink (owner): confirm, then the session is logged out of Telegram.
    sent = await stack.say("/accounts")
    listing = await stack.chat.wait_for(
        OWNER, lambda m: t(LANG, "accounts.title") in (m["text"] or ""), REPLY_S, after=sent
    )
    for name in ("@e2e_owner", "@e2e_helper", "Phoney"):
        assert name in listing["text"]
    unlink = next(
        b["data"]
        for row in listing["buttons"]
        for b in row
        if b["text"] == t(LANG, "accounts.unlink", account="Phoney")
    )
    await stack.chat.press(OWNER, listing["id"], unlink)
    await stack.reply(listing["id"] - 1, t(LANG, "accounts.unlink_confirm", account="Phoney"))
    confirm = next(m for m in await stack.chat.messages(OWNER) if m["id"] == listing["id"])
    yes = next(
        b["data"] for row in confirm["buttons"] for b in row if b["data"].startswith("acc:yes:")
    )
    await stack.chat.press(OWNER, listing["id"], yes)
    done = await stack.chat.wait_for(
        OWNER,
        lambda m: (m["text"] or "").startswith(t(LANG, "accounts.unlinked", account="Phoney")),
        REPLY_S,
        after=listing["id"] - 1,
    )
    assert done["id"] == listing["id"] and done["edited"]
    assert [c["account"] for c in await _calls(stack, "LogOutRequest")] == [PHONEY]
    assert set(await _rows(sessionmaker)) == {OWNER, HELPER}

    # 5. Workers (two runs: a restart) use the sessions the bot linked, under their leases.
    seen: Counter[int] = Counter()
    worker_logs: list[str] = []
    for _run in (1, 2):
        output = await _check_accounts(stack)
        worker_logs.append(output)
        assert "accounts checked (active: 2)" in output, output
        calls = await _calls(stack, "GetUsersRequest")
        now = Counter(c["account"] for c in calls if c["account"] is not None)
        assert now[OWNER] > seen[OWNER] and now[HELPER] > seen[HELPER], calls
        assert now[PHONEY] == seen[PHONEY] or not seen, calls  # the unlinked one is left alone
        seen = now
    assert {row.status for row in (await _rows(sessionmaker)).values()} == {AccountStatus.ACTIVE}

    # 6. The person ends the session from their phone ("Devices"): the worker notices, marks
    # the account, and the owner hears it from the bot.
    service = build_account_service(settings, None)
    linked = (await _rows(sessionmaker))[OWNER]
    async with open_dal(sessionmaker) as dal:
        account = await dal.get_account(linked.workspace_id, linked.id)
        assert account is not None
        revoked = await service.session_of(dal, account)
    elsewhere = SandboxClientFactory(stack.sandbox.url)(revoked)
    await elsewhere.connect()
    assert await elsewhere.log_out()
    output = await _check_accounts(stack)
    worker_logs.append(output)
    assert re.search(r"accounts checked \(active: 1, unauthorized: 1\)", output), output
    rows = await _rows(sessionmaker)
    assert (rows[OWNER].status, rows[OWNER].status_reason) == (
        AccountStatus.UNAUTHORIZED,
        "AUTH_KEY_UNREGISTERED",
    )
    assert rows[HELPER].status is AccountStatus.ACTIVE
    notice = t(
        LANG,
        "accounts.status_notice",
        account="@e2e_owner",
        status=t(LANG, "accounts.status.unauthorized"),
    )
    await stack.reply(done["id"], notice)

    # No process ever wrote a session string into its output.
    bot_output = await _stop_bot(stack)
    async with open_dal(sessionmaker) as dal:
        for row in rows.values():
            account = await dal.get_account(row.workspace_id, row.id)
            assert account is not None
            session = await service.session_of(dal, account)
            assert session not in bot_output and all(session not in o for o in worker_logs)
    assert "bot stopped" in bot_output


async def test_accounts_of_other_data_centres_and_where_codes_go(
    stack: Stack, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    far, texted, no_email, banned = 7301, 7302, 7303, 7304
    await stack.world(
        "POST",
        "users",
        {
            "users": [
                {"id": far, "first_name": "Far", "username": "e2e_far", "dc": 4},
                {"id": texted, "first_name": "Texted", "phone": "+15550007302", "dc": 5,
                 "code_type": "sms"},
                {"id": no_email, "first_name": "Nomail", "phone": "+15550007303",
                 "code_type": "setup_email"},
                {"id": banned, "first_name": "Gone", "phone": "+15550007304", "banned": True},
            ]
        },
    )  # fmt: skip
    sent = await stack.say("/start")
    await stack.reply(sent, t(LANG, "start.new", name="Owner"))

    # 1. QR code scanned by an account of DC 4: the bot's client follows it there.
    sent = await stack.say("/link")
    photo, url = await _qr_url(stack, sent)
    await stack.world("POST", "qr/scan", {"url": url, "user_id": far})
    await stack.reply(photo["id"], t(LANG, "linking.linked", account="@e2e_far"))

    # 2. A number of DC 5 whose code comes by SMS: the bot says so.
    sent = await stack.say("/link_phone")
    await stack.reply(sent, t(LANG, "linking.phone_ask"))
    sent = await stack.say("+1 555 000 73 02")
    await stack.reply(sent, t(LANG, "linking.code_ask_sms", phone="+1********02"))
    codes = (await stack.world("GET", f"users/{texted}/login_codes"))["codes"]
    (code,) = [c for c in codes if c["valid"]]
    assert code["type"] == "sms"
    sent = await stack.say(" ".join(code["code"]))
    await stack.reply(sent, t(LANG, "linking.linked", account="Texted"))

    # 3. Telegram wants a login email first; 4. a banned number. Both end the login.
    sent = await stack.say("/link_phone")
    await stack.reply(sent, t(LANG, "linking.phone_ask"))
    sent = await stack.say("+15550007303")
    await stack.reply(sent, t(LANG, "linking.email_setup_required"))
    sent = await stack.say("/link_phone")
    await stack.reply(sent, t(LANG, "linking.phone_ask"))
    sent = await stack.say("+15550007304")
    await stack.reply(sent, t(LANG, "linking.phone_banned"))

    assert [c["dc"] for c in await _calls(stack, "auth.ImportLoginToken")] == [4]
    assert [c["dc"] for c in await _calls(stack, "auth.SignIn")] == [5]
    assert set(await _rows(sessionmaker)) == {far, texted}

    # 5. A worker process loads the stored sessions: each reaches its account's DC.
    output = await _check_accounts(stack)
    assert "accounts checked (active: 2)" in output, output
    reached = {(c["account"], c["dc"]) for c in await _calls(stack, "GetUsersRequest")}
    assert {(far, 4), (texted, 5)} <= reached, reached
    assert {row.status for row in (await _rows(sessionmaker)).values()} == {AccountStatus.ACTIVE}
    bot_output = await _stop_bot(stack)
    assert "bot stopped" in bot_output
