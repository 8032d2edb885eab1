"""The fake Bot API under the real aiogram stack, observed through the control API.

The bot code of the project is tested against the sandbox, so the sandbox itself must hold
up under real `Bot` + `AiohttpSession` + `Dispatcher` polling: form-encoded fields, multipart
uploads, long polling and Telegram-shaped errors.
"""

from __future__ import annotations

import asyncio
import os
import signal
import struct
import sys
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import web

from sandbox.server import SandboxServer
from tests.sandbox_helpers import SandboxChat

TOKEN = "4242:sandbox-test"
USER = 5001
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CSV = b"id,username\n1,alice\n2,bob\n"


def _png(width: int = 3, height: int = 2) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()


def make_router() -> Router:
    router = Router(name="sandbox_probe")

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="Go", callback_data="go"),
                    InlineKeyboardButton(text="Docs", url="https://example.org/docs"),
                ]
            ]
        )
        await message.answer(
            "<b>Hello</b> &amp; welcome, <i>friend</i>", parse_mode="HTML", reply_markup=keyboard
        )

    @router.callback_query(F.data == "go")
    async def go(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("You pressed Go")
        await query.answer("done")

    @router.message(F.text == "photo")
    async def photo(message: Message) -> None:
        await message.answer_photo(BufferedInputFile(PNG, filename="qr.png"), caption="Scan me")

    @router.message(F.text == "document")
    async def document(message: Message) -> None:
        await message.answer_document(BufferedInputFile(CSV, filename="audience.csv"))

    @router.message(F.text == "forget")
    async def forget(message: Message) -> None:
        note = await message.answer("temporary")
        await note.delete()
        await message.delete()
        await message.answer("forgotten")

    return router


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(TOKEN) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def chat(sandbox: SandboxServer, http: aiohttp.ClientSession) -> SandboxChat:
    return SandboxChat(sandbox.url, http)


@pytest.fixture
async def bot(sandbox: SandboxServer) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)))
    yield bot
    await bot.session.close()


@pytest.fixture
async def polling(bot: Bot) -> AsyncIterator[Dispatcher]:
    dp = Dispatcher()
    dp.include_router(make_router())
    started = asyncio.Event()

    async def on_startup() -> None:
        started.set()

    dp.startup.register(on_startup)
    task = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False))
    await asyncio.wait_for(started.wait(), 5)
    yield dp
    await dp.stop_polling()
    await asyncio.wait_for(task, 5)


async def test_reply_is_visible_with_html_stripped_and_buttons(
    polling: Dispatcher, chat: SandboxChat
) -> None:
    sent = await chat.send(USER, "/start", username="alice", first_name="Alice")

    reply = await chat.wait_for(USER, lambda m: True, after=sent)

    assert reply["from"] == "bot"
    assert reply["text"] == "Hello & welcome, friend"
    assert reply["buttons"] == [
        [{"text": "Go", "data": "go"}, {"text": "Docs", "url": "https://example.org/docs"}]
    ]
    assert reply["edited"] is False and reply["deleted"] is False
    assert reply["photo"] is False and reply["document"] is None


async def test_ids_form_one_increasing_sequence_across_directions(
    polling: Dispatcher, chat: SandboxChat
) -> None:
    first = await chat.send(USER, "/start")
    await chat.wait_for(USER, lambda m: True, after=first)
    second = await chat.send(USER, "photo")
    await chat.wait_for(USER, lambda m: m["photo"], after=second)

    messages = await chat.messages(USER)

    ids = [m["id"] for m in messages]
    assert ids == sorted(set(ids)) and len(ids) == 4
    assert [m["from"] for m in messages] == ["user", "bot", "user", "bot"]
    assert [m["text"] for m in messages if m["from"] == "user"] == ["/start", "photo"]


async def test_press_edits_the_message_and_answers_the_query(
    polling: Dispatcher, chat: SandboxChat, sandbox: SandboxServer
) -> None:
    sent = await chat.send(USER, "/start")
    reply = await chat.wait_for(USER, lambda m: True, after=sent)

    await chat.press(USER, reply["id"], "go")
    edited = await chat.wait_for(USER, lambda m: m["edited"])

    assert edited["id"] == reply["id"]
    assert edited["text"] == "You pressed Go"
    assert edited["buttons"] == []  # editMessageText without reply_markup drops the keyboard
    for _ in range(100):
        if any(a and a["text"] == "done" for a in sandbox.state.callback_answers.values()):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail(f"callback query not answered: {sandbox.state.callback_answers}")


async def test_photo_bytes_round_trip(
    polling: Dispatcher,
    chat: SandboxChat,
    bot: Bot,
    http: aiohttp.ClientSession,
    sandbox: SandboxServer,
) -> None:
    sent = await chat.send(USER, "photo")
    photo = await chat.wait_for(USER, lambda m: m["photo"], after=sent)

    assert photo["text"] == "Scan me"
    assert await chat.file(USER, photo["id"]) == PNG
    async with http.get(f"{chat.base_url}/sandbox/chat/{USER}/files/{photo['id']}") as response:
        assert response.content_type == "image/png"

    # The bot re-sends by file_id and downloads through getFile + /file/bot<token>/<path>.
    stored = sandbox.state.find_message(USER, photo["id"])
    assert stored is not None and stored.photo is not None
    again = await bot.send_photo(USER, photo=stored.photo.file_id)
    assert again.photo is not None and again.photo[-1].width == 3
    assert await chat.file(USER, again.message_id) == PNG
    downloaded = await bot.download(again.photo[-1].file_id)
    assert downloaded is not None and downloaded.read() == PNG


async def test_document_keeps_its_file_name(polling: Dispatcher, chat: SandboxChat) -> None:
    sent = await chat.send(USER, "document")
    document = await chat.wait_for(USER, lambda m: m["document"] is not None, after=sent)

    assert document["document"] == {"file_name": "audience.csv"}
    assert document["photo"] is False and document["text"] is None
    assert await chat.file(USER, document["id"]) == CSV


async def test_deleted_messages_stay_in_the_transcript_marked(
    polling: Dispatcher, chat: SandboxChat
) -> None:
    sent = await chat.send(USER, "forget")
    await chat.wait_for(USER, lambda m: m["text"] == "forgotten", after=sent)

    by_text = {m["text"]: m for m in await chat.messages(USER)}

    assert by_text["forget"]["deleted"] is True
    assert by_text["temporary"]["deleted"] is True
    assert by_text["forgotten"]["deleted"] is False


async def test_unknown_method_and_wrong_token(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{sandbox.url}/bot{TOKEN}/sendCarrierPigeon") as response:
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
    async with http.post(f"{sandbox.url}/bot4242:wrong/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }
    api = TelegramAPIServer.from_base(sandbox.url)
    stranger = Bot("4242:wrong", session=AiohttpSession(api=api))
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    finally:
        await stranger.session.close()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("send", b"not json"),
        ("send", b"[1, 2]"),
        ("send", b"{}"),
        ("send", b'{"text": 5}'),
        ("send", b'{"text": "   "}'),
        ("send", b'{"text": "hi", "colour": "red"}'),
        ("press", b'{"data": "go"}'),
        ("press", b'{"message_id": "1", "data": "go"}'),
        ("press", b'{"message_id": true, "data": "go"}'),
        ("press", b'{"message_id": 1}'),
    ],
)
async def test_bad_bodies_are_400(
    sandbox: SandboxServer, http: aiohttp.ClientSession, path: str, body: bytes
) -> None:
    url = f"{sandbox.url}/sandbox/chat/{USER}/{path}"
    async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400
        error = (await response.json())["error"]
        assert error["code"] == "invalid_input" and error["message"]


@pytest.mark.parametrize("user_id", ["abc", "0", "-5", "1.5", "9" * 5000])
async def test_user_id_must_be_positive_int(
    sandbox: SandboxServer, http: aiohttp.ClientSession, user_id: str
) -> None:
    async with http.get(f"{sandbox.url}/sandbox/chat/{user_id}/messages") as response:
        assert response.status == 400
    async with http.post(f"{sandbox.url}/sandbox/chat/{user_id}/send", json={"text": "hi"}) as r:
        assert r.status == 400


async def test_press_unknown_message_or_data_is_404(
    sandbox: SandboxServer, chat: SandboxChat, bot: Bot, http: aiohttp.ClientSession
) -> None:
    await chat.send(USER, "hello")
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
    )
    sent = await bot.send_message(USER, "menu", reply_markup=keyboard)
    url = f"{sandbox.url}/sandbox/chat/{USER}/press"

    for body in ({"message_id": 99, "data": "go"}, {"message_id": sent.message_id, "data": "no"}):
        async with http.post(url, json=body) as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "not_found"
    async with http.get(f"{sandbox.url}/sandbox/chat/{USER}/files/{sent.message_id}") as r:
        assert r.status == 404
    await chat.press(USER, sent.message_id, "go")


async def test_bot_api_refuses_what_telegram_refuses(chat: SandboxChat, bot: Bot) -> None:
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(USER, "you never wrote to me")
    await chat.send(USER, "hello")

    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="reserved"):
        await bot.send_message(USER, "Done.", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        too_long = InlineKeyboardButton(text="x", callback_data="x" * 65)
        await bot.send_message(
            USER, "menu", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[too_long]])
        )

    sent = await bot.send_message(USER, "*Done*\\. 1 < 2", parse_mode="MarkdownV2")
    assert sent.text == "Done. 1 < 2"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Done. 1 < 2", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, 999)
    assert await bot.delete_messages(USER, [sent.message_id, 999]) is True
    assert [m["deleted"] for m in await chat.messages(USER)] == [False, True]


async def test_long_polling_offsets_and_conflict(chat: SandboxChat, bot: Bot) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await chat.send(USER, "/start now", language_code="de")

    updates = await asyncio.wait_for(waiting, 3)

    assert time.monotonic() - started < 1
    assert len(updates) == 1 and updates[0].message is not None
    message = updates[0].message
    assert message.text == "/start now" and message.chat.id == USER
    assert message.from_user is not None and message.from_user.language_code == "de"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    assert message.entities[0].length == len("/start")
    assert await bot.get_updates(offset=updates[0].update_id, timeout=0) == updates
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []

    older = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    newer = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError):
        await asyncio.wait_for(older, 3)
    assert await newer == []


async def test_commands_are_kept(bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(commands) is True
    kept = await bot.get_my_commands()
    assert [(c.command, c.description) for c in kept] == [("start", "Start"), ("help", "Help")]
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == []
    me = await bot.get_me()
    assert me.id == 4242 and me.username == "tg_inviter_sandbox_bot" and me.is_bot


async def test_stop_answers_a_pending_long_poll(http: aiohttp.ClientSession) -> None:
    server = await SandboxServer(TOKEN).start()
    poll = asyncio.create_task(http.get(f"{server.url}/bot{TOKEN}/getUpdates?timeout=30"))
    await asyncio.sleep(0.1)
    started = time.monotonic()

    await server.stop()

    assert time.monotonic() - started < 2
    response = await asyncio.wait_for(poll, 2)
    assert await response.json() == {"ok": True, "result": []}
    response.release()


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    return {**env, "SANDBOX_HOST": "127.0.0.1", **overrides}


async def test_python_m_sandbox_runs_and_stops_on_sigterm(http: aiohttp.ClientSession) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        cwd=PROJECT_ROOT,
        env=_env(SANDBOX_PORT="0"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
        prefix = "sandbox: simulated Bot API and control API on http://127.0.0.1:"
        assert line.startswith(prefix), line
        url = line.rsplit(" ", 1)[1]
        async with http.get(f"{url}/sandbox/health") as response:
            assert await response.json() == {"ok": True}

        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 5) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_python_m_sandbox_rejects_a_bad_port() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        cwd=PROJECT_ROOT,
        env=_env(SANDBOX_PORT="eighty"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 10)

    assert process.returncode == 2
    assert stdout == b""
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "SANDBOX_PORT" in lines[0]


# ---- webhooks ----------------------------------------------------------------------------


async def _call(
    http: aiohttp.ClientSession, sandbox: SandboxServer, method: str, **params: object
) -> dict:
    async with http.post(f"{sandbox.url}/bot{TOKEN}/{method}", json=params) as response:
        body = await response.json()
        assert response.status == (200 if body["ok"] else body["error_code"])
        return dict(body)


class Receiver:
    """A webhook endpoint on loopback that records what Telegram (the sandbox) POSTs."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict]] = []
        self.answers: list[web.Response] = []
        self.arrived = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.json()))
        self.arrived.set()
        return self.answers.pop(0) if self.answers else web.json_response({})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    await hook.start()
    yield hook
    await hook.stop()


async def test_get_updates_is_refused_while_a_webhook_is_set(
    chat: SandboxChat, bot: Bot, http: aiohttp.ClientSession, sandbox: SandboxServer
) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    # A webhook somewhere else: the sandbox keeps it and never contacts it.
    assert await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret") is True
    with pytest.raises(TelegramConflictError, match="terminated by setWebhook request"):
        await asyncio.wait_for(waiting, 3)

    await chat.send(USER, "/start")
    await chat.send(USER, "anyone there?")
    with pytest.raises(
        TelegramConflictError,
        match="can't use getUpdates method while webhook is active; use deleteWebhook",
    ):
        await bot.get_updates(timeout=0)
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.org/hook"
    assert info.pending_update_count == 2
    assert info.max_connections == 40 and info.last_error_message is None

    # Without drop_pending_updates the queue survives the switch back to polling.
    body = await _call(http, sandbox, "deleteWebhook")
    assert body == {"ok": True, "result": True, "description": "Webhook was deleted"}
    assert (await _call(http, sandbox, "deleteWebhook"))[
        "description"
    ] == "Webhook is already deleted"
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["/start", "anyone there?"]

    await asyncio.sleep(1.05)  # one setWebhook with a URL per second
    assert await bot.set_webhook("https://bot.example.org/hook") is True
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert (await bot.get_webhook_info()).pending_update_count == 0
    assert await bot.get_updates(timeout=0) == []


@pytest.mark.parametrize(
    "params,description",
    [
        (
            {"url": "http://bot.example.org/hook"},
            "bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            {"url": "https://bot.example.org:8080/hook"},
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
        ({"url": "not a url"}, "invalid webhook URL specified"),
        (
            {"url": "https://bot.example.org/hook", "secret_token": "a" * 257},
            "secret token is too long",
        ),
        (
            {"url": "https://bot.example.org/hook", "secret_token": "no spaces!"},
            "secret token contains unallowed characters",
        ),
    ],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    http: aiohttp.ClientSession, sandbox: SandboxServer, params: dict[str, str], description: str
) -> None:
    body = await _call(http, sandbox, "setWebhook", **params)
    assert body == {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
    assert (await _call(http, sandbox, "getWebhookInfo"))["result"]["url"] == ""
    # Every setWebhook with a URL counts against the limit of one per second.
    again = await _call(http, sandbox, "setWebhook", url="https://bot.example.org/hook")
    assert again["error_code"] == 429 and again["parameters"] == {"retry_after": 1}


async def test_loopback_webhook_gets_updates_in_order_with_the_secret(
    chat: SandboxChat, http: aiohttp.ClientSession, sandbox: SandboxServer, receiver: Receiver
) -> None:
    await chat.send(USER, "/start")  # pending before the webhook exists
    receiver.answers.append(web.Response(status=500))
    body = await _call(http, sandbox, "setWebhook", url=receiver.url, secret_token="Top_secret-1")
    assert body["description"] == "Webhook was set"

    # The 500 is retried, and the failure shows in getWebhookInfo meanwhile.
    await receiver.wait_for(2)
    info = (await _call(http, sandbox, "getWebhookInfo"))["result"]
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )
    first, retried = receiver.requests
    assert first[1] == retried[1] and first[1]["message"]["text"] == "/start"
    assert first[0]["X-Telegram-Bot-Api-Secret-Token"] == "Top_secret-1"
    assert first[0]["Content-Type"] == "application/json"

    # The answer to a webhook request may be a method call, which Telegram runs.
    receiver.answers.append(
        web.json_response(
            {"method": "sendMessage", "chat_id": USER, "text": "answered in the response"}
        )
    )
    await chat.send(USER, "second")
    await receiver.wait_for(3)
    assert receiver.requests[2][1]["message"]["text"] == "second"
    assert receiver.requests[2][1]["update_id"] == first[1]["update_id"] + 1
    reply = await chat.wait_for(USER, lambda m: m["text"] == "answered in the response", timeout=5)
    assert reply["from"] == "bot"
    info = (await _call(http, sandbox, "getWebhookInfo"))["result"]
    assert info["url"] == receiver.url and info["pending_update_count"] == 0

    # Deleting the webhook stops deliveries; the next update waits for getUpdates.
    await _call(http, sandbox, "deleteWebhook")
    await chat.send(USER, "third")
    await asyncio.sleep(0.3)
    assert len(receiver.requests) == 3
    assert (await _call(http, sandbox, "getUpdates"))["result"][-1]["message"]["text"] == "third"
