"""Linking accounts from the bot (/link, /link_phone, /cancel) and the /accounts list.

The real Dispatcher and real PostgreSQL/Redis, with real Telethon clients on a simulated
Telegram in this process: the test plays the user's phone by scanning the QR code the bot
sent (decoded from the PNG) or reading the login code "Telegram" sent.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
import zxingcpp
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageCaption,
    EditMessageMedia,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telethon import TelegramClient
from telethon.sessions import StringSession

from bot.linking import LinkStates, PendingLogins
from core.accounts import AccountService
from core.dto import AccountStatus, WorkspaceRole
from core.i18n import t
from db.dal import open_dal
from db.models import Membership, TelegramAccount, User
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World
from tests.bot.conftest import RecordingSession, TgUser, only_the_hint

WORKER, HELPER, STRANGER = 100, 101, 102
PASSWORD = "s3cret"
Calls = list[TelegramMethod[Any]]


@pytest.fixture(autouse=True)
def seeded(world: World) -> World:
    world.put_users(
        [
            {"id": WORKER, "first_name": "Worker", "username": "worker", "phone": "+10000000100"},
            {"id": HELPER, "first_name": "Helper", "username": "helper", "phone": "+10000000101"},
            {"id": STRANGER, "first_name": "Nameless", "phone": "+10000000102"},
        ]
    )
    world.set_password(HELPER, PASSWORD)
    return world


# --- helpers ---------------------------------------------------------------------------
def decode_qr(png: bytes) -> str:
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return barcode.text


def photo_bytes(call: SendPhoto | EditMessageMedia) -> bytes:
    media = call.photo if isinstance(call, SendPhoto) else call.media.media
    data: bytes = media.data  # type: ignore[union-attr]
    assert data[:4] == b"\x89PNG"
    return data


async def eventually(
    recording: RecordingSession, match: Callable[[TelegramMethod[Any]], bool], timeout: float = 5.0
) -> TelegramMethod[Any]:
    """The first recorded Bot API call that matches, waiting for background work."""
    async with asyncio.timeout(timeout):
        while True:
            for call in recording.requests:
                if match(call):
                    return call
            await asyncio.sleep(0.01)


def texts_to(recording: RecordingSession, chat_id: int) -> list[str]:
    return [m.text for m in recording.sent() if m.chat_id == chat_id]


async def said(recording: RecordingSession, chat_id: int, text: str, timeout: float = 5.0) -> None:
    await eventually(
        recording,
        lambda c: isinstance(c, SendMessage) and c.chat_id == chat_id and c.text == text,
        timeout,
    )


async def start_qr(user: TgUser) -> tuple[SendPhoto, str]:
    """/link: the QR photo the bot sent and the login URL it encodes."""
    calls = await user.send("/link")
    (photo,) = [c for c in calls if isinstance(c, SendPhoto)]
    return photo, decode_qr(photo_bytes(photo))


async def link_by_qr(user: TgUser, world: World, tg_user_id: int, name: str) -> None:
    _, url = await start_qr(user)
    world.scan_qr(url, tg_user_id)
    await said(
        user.recording, user.telegram_id, t(user.language_code, "linking.linked", account=name)
    )


async def account_rows(sm: async_sessionmaker[AsyncSession]) -> list[TelegramAccount]:
    async with sm() as session:
        return list(
            (await session.scalars(select(TelegramAccount).order_by(TelegramAccount.id))).all()
        )


async def workspace_of(sm: async_sessionmaker[AsyncSession], telegram_id: int) -> tuple[int, int]:
    """(internal user id, personal workspace id)."""
    async with open_dal(sm) as dal:
        user = await dal.get_user_by_telegram_id(telegram_id)
        assert user is not None
        return user.id, (await dal.list_workspaces(user.id))[0].id


async def session_user(world: World, session: str) -> int | None:
    """Who a session string is logged in as, according to the world (None: nobody)."""
    client: TelegramClient = InProcessClientFactory(world)(session)
    await client.connect()
    try:
        me = await client.get_me()
        return None if me is None else me.id
    finally:
        await client.disconnect()


def buttons(markup: Any) -> list[tuple[str, str]]:
    return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]


# --- QR login --------------------------------------------------------------------------
async def test_qr_photo_then_scan_links_without_2fa(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    accounts: AccountService,
) -> None:
    alice = make_user(5001, username="alice", language_code="en")

    photo, url = await start_qr(alice)

    assert url.startswith("tg://login?token=")
    assert [url] == [
        "tg://login?token=" + base64.urlsafe_b64encode(tok.token).decode().rstrip("=")
        for tok in world.pending_login_tokens()
    ]
    assert photo.caption == t("en", "linking.qr_caption", minutes=5)
    assert "Settings → Devices → Link Desktop Device" in photo.caption
    [(label, data)] = buttons(photo.reply_markup)
    assert label == t("en", "linking.qr_refresh") and data.startswith("qr:")

    world.scan_qr(url, WORKER)

    await said(recording, 5001, t("en", "linking.linked", account="@worker"))
    (row,) = await account_rows(sessionmaker)
    user_id, workspace_id = await workspace_of(sessionmaker, 5001)
    assert (row.workspace_id, row.tg_user_id, row.username, row.status) == (
        workspace_id,
        WORKER,
        "worker",
        AccountStatus.ACTIVE,
    )
    assert row.phone_masked == "+1********00"
    # Sealed at rest, and what is sealed is a session the world knows as the worker.
    async with open_dal(sessionmaker) as dal:
        account = await accounts.get(dal, user_id, workspace_id, row.id)
        session = await accounts.session_of(dal, account)
    assert session.encode() not in row.session_ciphertext
    assert await session_user(world, session) == WORKER
    # The photo no longer offers a code that works.
    retired = [c for c in recording.requests if isinstance(c, EditMessageCaption)]
    assert [c.caption for c in retired] == [t("en", "linking.qr_scanned")]
    assert retired[0].reply_markup is None

    # The same account again: the session is refreshed, not duplicated.
    _, url = await start_qr(alice)
    world.scan_qr(url, WORKER)
    await said(recording, 5001, t("en", "linking.updated", account="@worker"))
    rows = await account_rows(sessionmaker)
    assert [r.id for r in rows] == [row.id]
    async with open_dal(sessionmaker) as dal:
        fresh = await accounts.session_of(dal, account)
    assert fresh != session and await session_user(world, fresh) == WORKER


async def test_several_accounts_each_scan_decides_who(
    make_user: Callable[..., TgUser], world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bob = make_user(5002, language_code="ru")
    await link_by_qr(bob, world, WORKER, "@worker")
    await link_by_qr(bob, world, STRANGER, "Nameless")  # no username: the first name
    assert [r.tg_user_id for r in await account_rows(sessionmaker)] == [WORKER, STRANGER]


async def test_qr_with_2fa_wrong_then_right_password(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    dispatcher: Dispatcher,
    bot: Bot,
) -> None:
    carol = make_user(5003, language_code="en")
    _, url = await start_qr(carol)
    world.scan_qr(url, HELPER)
    await said(recording, 5003, t("en", "linking.password_ask"))
    key = StorageKey(bot_id=bot.id, chat_id=5003, user_id=5003)
    assert await dispatcher.storage.get_state(key) == LinkStates.password.state

    calls = await carol.send("wrong password")

    assert isinstance(calls[0], DeleteMessage)  # gone before anything else happens
    assert (calls[0].chat_id, calls[0].message_id) == (5003, 2)
    assert [c.text for c in calls if isinstance(c, SendMessage)] == [
        t("en", "linking.password_wrong", left=2)
    ]
    assert await account_rows(sessionmaker) == []

    calls = await carol.send(PASSWORD)

    assert isinstance(calls[0], DeleteMessage) and calls[0].message_id == 3
    assert [c.text for c in calls if isinstance(c, SendMessage)] == [
        t("en", "linking.linked", account="@helper")
    ]
    (row,) = await account_rows(sessionmaker)
    assert row.tg_user_id == HELPER
    assert await dispatcher.storage.get_state(key) is None
    methods = [c.method for c in world.calls()]
    assert methods.count("CheckPasswordRequest") == 2


async def test_three_wrong_passwords_stop_the_login(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    logins: PendingLogins,
) -> None:
    dave = make_user(5004, language_code="ru")
    _, url = await start_qr(dave)
    world.scan_qr(url, HELPER)
    await said(recording, 5004, t("ru", "linking.password_ask"))

    replies = []
    for attempt in ("one", "two", "three"):
        calls = await dave.send(attempt)
        assert isinstance(calls[0], DeleteMessage)
        replies += [c.text for c in calls if isinstance(c, SendMessage)]

    assert replies == [
        t("ru", "linking.password_wrong", left=2),
        t("ru", "linking.password_wrong", left=1),
        t("ru", "linking.password_aborted", tries=3),
    ]
    assert logins.stage(5004) is None
    # The chat no longer waits for a password: the right one now is just a message.
    assert only_the_hint(await dave.send(PASSWORD), "ru")
    assert await account_rows(sessionmaker) == []
    assert HELPER not in world.authorizations.values()


async def test_refresh_button_sends_a_new_code(
    make_user: Callable[..., TgUser], recording: RecordingSession, world: World
) -> None:
    erin = make_user(5005, language_code="en")
    photo, first = await start_qr(erin)
    [(_, data)] = buttons(photo.reply_markup)

    calls = await erin.press(photo, data, message_id=1000)

    (edit,) = [c for c in calls if isinstance(c, EditMessageMedia)]
    assert edit.message_id == 1000 and edit.chat_id == 5005
    second = decode_qr(photo_bytes(edit))
    assert second.startswith("tg://login?token=") and second != first
    assert edit.media.caption == t("en", "linking.qr_caption", minutes=5)
    assert buttons(edit.reply_markup) == buttons(photo.reply_markup)
    (answer,) = [c for c in calls if isinstance(c, AnswerCallbackQuery)]
    assert answer.text == t("en", "linking.qr_refreshed")

    # A button of another (older) login only says so.
    calls = await erin.press(photo, "qr:00000000", message_id=1000)
    assert [(type(c), c.text) for c in calls] == [
        (AnswerCallbackQuery, t("en", "linking.qr_stale"))
    ]

    world.scan_qr(second, WORKER)
    await said(recording, 5005, t("en", "linking.linked", account="@worker"))


async def test_code_is_renewed_before_it_expires(
    make_user: Callable[..., TgUser], recording: RecordingSession, world: World
) -> None:
    # Codes that live 2 s instead of 30 s: the bot must renew them on its own, in place.
    world.now = lambda: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=28)
    frank = make_user(5006, language_code="en")
    _, first = await start_qr(frank)

    edit = await eventually(recording, lambda c: isinstance(c, EditMessageMedia), timeout=5)

    assert isinstance(edit, EditMessageMedia) and edit.message_id == 1000
    renewed = decode_qr(photo_bytes(edit))
    assert renewed != first
    world.scan_qr(renewed, WORKER)
    await said(recording, 5006, t("en", "linking.linked", account="@worker"))


async def test_new_link_replaces_the_open_one(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gina = make_user(5007, language_code="en")
    _, old_url = await start_qr(gina)
    _, new_url = await start_qr(gina)

    retired = [c for c in recording.requests if isinstance(c, EditMessageCaption)]
    assert [(c.message_id, c.caption) for c in retired] == [(1000, t("en", "linking.qr_expired"))]
    world.scan_qr(old_url, WORKER)  # the abandoned client is gone: nobody collects this
    await asyncio.sleep(0.2)
    assert await account_rows(sessionmaker) == []

    world.scan_qr(new_url, WORKER)
    await said(recording, 5007, t("en", "linking.linked", account="@worker"))
    assert len(await account_rows(sessionmaker)) == 1


# --- phone login -------------------------------------------------------------------------
async def test_phone_login_with_code_from_the_world(
    make_user: Callable[..., TgUser], world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    hugo = make_user(5008, language_code="en")
    assert await hugo.reply_to("/link_phone") == t("en", "linking.phone_ask")
    assert await hugo.reply_to("12345") == t("en", "linking.phone_invalid")
    assert await hugo.reply_to("+1 000 000 0100") == t(
        "en", "linking.code_ask", phone="+1********00"
    )
    (sent,) = world.codes_for(WORKER)
    wrong = "1 1 1 1 1" if sent.code != "11111" else "2 2 2 2 2"

    assert await hugo.reply_to("twelve") == t("en", "linking.code_invalid")
    assert await hugo.reply_to(wrong) == t("en", "linking.code_wrong", left=2)
    typed = " ".join(sent.code[:3]) + "-" + " ".join(sent.code[3:])  # e.g. "1 2 3-4 5"
    assert await hugo.reply_to(typed) == t("en", "linking.linked", account="@worker")

    (row,) = await account_rows(sessionmaker)
    assert row.tg_user_id == WORKER


async def test_phone_login_with_2fa_and_phone_errors(
    make_user: Callable[..., TgUser], world: World, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    ivy = make_user(5009, language_code="ru")
    await ivy.send("/link_phone")
    assert await ivy.reply_to("+10000000101") == t("ru", "linking.code_ask", phone="+1********01")
    code = world.codes_for(HELPER)[-1].code
    assert await ivy.reply_to(" ".join(code)) == t("ru", "linking.password_ask")
    calls = await ivy.send(PASSWORD)
    assert isinstance(calls[0], DeleteMessage)
    assert [c.text for c in calls if isinstance(c, SendMessage)] == [
        t("ru", "linking.linked", account="@helper")
    ]

    # A number without a Telegram account: only an SMS can reach it; told at sign-in, and
    # the login ends.
    await ivy.send("/link_phone")
    assert await ivy.reply_to("+19999999999") == t(
        "ru", "linking.code_ask_sms", phone="+1********99"
    )
    assert await ivy.reply_to("1 2 3 4 5") == t("ru", "linking.phone_not_registered")
    assert only_the_hint(await ivy.send("1 2 3 4 5"), "ru")

    # Telegram refusing the code's request: a flood wait stops the login with its length.
    world.add_fault("SendCodeRequest", "FLOOD_WAIT_120", 1)
    await ivy.send("/link_phone")
    assert await ivy.reply_to("+10000000100") == t("ru", "linking.flood_wait", minutes=2)
    assert [r.tg_user_id for r in await account_rows(sessionmaker)] == [HELPER]


async def test_three_wrong_codes_and_an_expired_code(
    make_user: Callable[..., TgUser], world: World
) -> None:
    jan = make_user(5010, language_code="en")
    await jan.send("/link_phone")
    await jan.send("+10000000100")
    code = world.codes_for(WORKER)[-1].code
    wrong = "00000" if code != "00000" else "11111"
    assert [await jan.reply_to(wrong) for _ in range(3)] == [
        t("en", "linking.code_wrong", left=2),
        t("en", "linking.code_wrong", left=1),
        t("en", "linking.code_aborted", tries=3),
    ]

    await jan.send("/link_phone")
    await jan.send("+10000000100")
    code = world.codes_for(WORKER)[-1].code
    world.now = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    assert await jan.reply_to(code) == t("en", "linking.code_expired")


# --- data centres, code delivery and Telegram's refusals -----------------------------------
async def test_qr_login_of_accounts_on_other_dcs(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    accounts: AccountService,
) -> None:
    world.put_user(WORKER, dc=4)
    world.put_user(HELPER, dc=3)  # with 2FA (the fixture's password)
    rosa = make_user(5030, language_code="en")

    # The scan answers loginTokenMigrateTo: the gateway moves the client to DC 4 and imports
    # the token there.
    await link_by_qr(rosa, world, WORKER, "@worker")
    _, url = await start_qr(rosa)
    world.scan_qr(url, HELPER)
    await said(recording, 5030, t("en", "linking.password_ask"))
    calls = await rosa.send(PASSWORD)
    assert [c.text for c in calls if isinstance(c, SendMessage)] == [
        t("en", "linking.linked", account="@helper")
    ]

    assert [(c.dc, c.error) for c in world.calls("ImportLoginTokenRequest")] == [
        (4, None),
        (3, "SESSION_PASSWORD_NEEDED"),
    ]
    assert [c.dc for c in world.calls("CheckPasswordRequest")] == [3]
    user_id, ws = await workspace_of(sessionmaker, 5030)
    stored = {}
    async with open_dal(sessionmaker) as dal:
        for row in await account_rows(sessionmaker):
            stored[row.tg_user_id] = await accounts.session_of(
                dal, await accounts.get(dal, user_id, ws, row.id)
            )
    # What is stored names the account's DC and works from a fresh client (another process).
    assert {tg_id: StringSession(s).dc_id for tg_id, s in stored.items()} == {WORKER: 4, HELPER: 3}
    assert await session_user(world, stored[WORKER]) == WORKER
    assert await session_user(world, stored[HELPER]) == HELPER


async def test_phone_login_says_where_the_code_went(
    make_user: Callable[..., TgUser],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    logins: PendingLogins,
) -> None:
    sam = make_user(5031, language_code="ru")
    masked = "+1********00"
    world.put_user(WORKER, code_type="sms")
    await sam.send("/link_phone")
    assert await sam.reply_to("+10000000100") == t("ru", "linking.code_ask_sms", phone=masked)
    world.put_user(WORKER, code_type="call")
    await sam.send("/link_phone")
    assert await sam.reply_to("+10000000100") == t("ru", "linking.code_ask_call", phone=masked)

    # An account on DC 5 whose code goes to its app: Telegram answers PHONE_MIGRATE_5 and
    # the login goes on there.
    world.put_user(WORKER, code_type="app", dc=5)
    await sam.send("/link_phone")
    assert await sam.reply_to("+10000000100") == t("ru", "linking.code_ask", phone=masked)
    code = world.codes_for(WORKER)[-1]
    assert code.kind == "app"
    assert await sam.reply_to(" ".join(code.code)) == t("ru", "linking.linked", account="@worker")
    assert [c.dc for c in world.calls("SignInRequest")] == [5]

    # No code until the account has a login email: said, and the login ends.
    world.put_user(HELPER, code_type="setup_email")
    await sam.send("/link_phone")
    assert await sam.reply_to("+10000000101") == t("ru", "linking.email_setup_required")
    assert logins.stage(5031) is None
    assert world.codes_for(HELPER) == []
    assert only_the_hint(await sam.send("1 2 3 4 5"), "ru")
    assert [r.tg_user_id for r in await account_rows(sessionmaker)] == [WORKER]


@pytest.mark.parametrize(
    ("method", "error", "stage", "key", "params"),
    [
        ("auth.SendCode", "PHONE_NUMBER_FLOOD", "phone", "linking.phone_flood", {}),
        ("auth.SendCode", "PHONE_NUMBER_BANNED", "phone", "linking.phone_banned", {}),
        ("auth.SendCode", "PHONE_PASSWORD_FLOOD", "phone", "linking.password_flood", {}),
        ("auth.SendCode", "FLOOD_WAIT_7200", "phone", "linking.flood_wait_hours", {"hours": 2}),
        ("auth.SignIn", "FLOOD_WAIT_300", "code", "linking.flood_wait", {"minutes": 5}),
        ("auth.SignIn", "PHONE_CODE_EXPIRED", "code", "linking.code_expired", {}),
        ("auth.CheckPassword", "PHONE_PASSWORD_FLOOD", "password", "linking.password_flood", {}),
        ("auth.CheckPassword", "FLOOD_WAIT_86400", "password", "linking.flood_wait_hours",
         {"hours": 24}),
    ],
)  # fmt: skip
async def test_telegram_refusals_end_the_login_with_a_clear_text(
    make_user: Callable[..., TgUser],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    logins: PendingLogins,
    counting: CountingFactory,
    dispatcher: Dispatcher,
    bot: Bot,
    method: str,
    error: str,
    stage: str,
    key: str,
    params: dict[str, Any],
) -> None:
    tom = make_user(5032, language_code="en")
    await tom.send("/link_phone")
    world.add_fault(method, error)
    reply = await tom.reply_to("+10000000101")
    if stage != "phone":
        code = world.codes_for(HELPER)[-1].code
        reply = await tom.reply_to(" ".join(code))
    if stage == "password":
        assert reply == t("en", "linking.password_ask")
        (reply,) = [c.text for c in await tom.send(PASSWORD) if isinstance(c, SendMessage)]

    assert reply == t("en", key, **params)
    assert [c.error for c in world.calls(method)] == [error]
    # The login is over: no state, no open client, no authorization left behind.
    assert logins.stage(5032) is None
    key_ = StorageKey(bot_id=bot.id, chat_id=5032, user_id=5032)
    assert await dispatcher.storage.get_state(key_) is None
    assert not any(c.is_connected() for c in counting.made)
    assert HELPER not in world.authorizations.values()
    assert await account_rows(sessionmaker) == []


async def test_a_number_telegram_refuses_may_be_typed_again(
    make_user: Callable[..., TgUser], world: World
) -> None:
    uma = make_user(5033, language_code="en")
    await uma.send("/link_phone")
    world.add_fault("auth.SendCode", "PHONE_NUMBER_INVALID")
    assert await uma.reply_to("+10000000100") == t("en", "linking.phone_rejected")
    assert await uma.reply_to("+10000000100") == t("en", "linking.code_ask", phone="+1********00")


async def test_banned_number_in_the_world_and_a_flood_while_collecting_a_qr_scan(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    logins: PendingLogins,
) -> None:
    vic = make_user(5034, language_code="ru")
    world.put_user(STRANGER, banned=True)
    await vic.send("/link_phone")
    assert await vic.reply_to("+10000000102") == t("ru", "linking.phone_banned")
    assert logins.stage(5034) is None

    # A DC 4 account scans; importing the token on DC 4 meets a long flood wait.
    world.put_user(WORKER, dc=4)
    world.add_fault("auth.ImportLoginToken", "FLOOD_WAIT_7000")
    _, url = await start_qr(vic)
    world.scan_qr(url, WORKER)
    await said(recording, 5034, t("ru", "linking.flood_wait_hours", hours=2))
    assert logins.stage(5034) is None
    assert await account_rows(sessionmaker) == []
    assert WORKER not in world.authorizations.values()


# --- ending logins -------------------------------------------------------------------------
class CountingFactory(InProcessClientFactory):
    """Remembers every client it made, to see that logins end their clients."""

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.made: list[TelegramClient] = []

    def __call__(self, session: str | None = None) -> TelegramClient:
        client = super().__call__(session)
        self.made.append(client)
        return client


@pytest.fixture
def counting(world: World) -> CountingFactory:
    return CountingFactory(world)


@pytest.fixture
def gateway(counting: CountingFactory) -> TelegramGateway:
    return TelegramGateway(counting)


async def test_open_logins_expire_with_a_message(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    logins: PendingLogins,
    counting: CountingFactory,
    dispatcher: Dispatcher,
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
) -> None:
    logins.ttl_s = 1.0
    kim = make_user(5011, language_code="en")
    _, url = await start_qr(kim)
    assert logins.stage(5011) == "qr"

    await said(recording, 5011, t("en", "linking.expired", minutes=1), timeout=5)

    assert logins.stage(5011) is None
    assert [c.caption for c in recording.requests if isinstance(c, EditMessageCaption)] == [
        t("en", "linking.qr_expired")
    ]
    assert [c.is_connected() for c in counting.made] == [False]
    world.scan_qr(url, WORKER)  # too late: nobody listens any more
    await asyncio.sleep(0.2)
    assert await account_rows(sessionmaker) == []

    # A phone login half-way through (waiting for the code) ends the same way.
    await kim.send("/link_phone")
    await kim.send("+10000000100")
    await asyncio.sleep(1.2)
    assert texts_to(recording, 5011)[-1] == t("en", "linking.expired", minutes=1)
    key = StorageKey(bot_id=bot.id, chat_id=5011, user_id=5011)
    assert await dispatcher.storage.get_state(key) is None
    assert not any(c.is_connected() for c in counting.made)


async def test_cancel_while_the_password_is_asked(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    logins: PendingLogins,
    counting: CountingFactory,
    world: World,
) -> None:
    lea = make_user(5012, language_code="en")
    _, url = await start_qr(lea)
    world.scan_qr(url, HELPER)
    await said(recording, 5012, t("en", "linking.password_ask"))
    assert await lea.reply_to("/cancel") == t("en", "linking.cancelled")
    assert not any(c.is_connected() for c in counting.made)
    assert HELPER not in world.authorizations.values()
    assert only_the_hint(await lea.send(PASSWORD), "en")


async def test_cancel(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    logins: PendingLogins,
    dispatcher: Dispatcher,
    bot: Bot,
) -> None:
    max_ = make_user(5013, language_code="ru")
    assert await max_.reply_to("/cancel") == t("ru", "linking.nothing_to_cancel")

    await start_qr(max_)
    assert await max_.reply_to("/cancel") == t("ru", "linking.cancelled")
    assert logins.stage(5013) is None
    assert [c.caption for c in recording.requests if isinstance(c, EditMessageCaption)] == [
        t("ru", "linking.qr_expired")
    ]

    await max_.send("/link_phone")
    assert await max_.reply_to("/cancel") == t("ru", "linking.cancelled")
    key = StorageKey(bot_id=bot.id, chat_id=5013, user_id=5013)
    assert await dispatcher.storage.get_state(key) is None
    assert only_the_hint(await max_.send("+10000000100"), "ru")


async def test_state_without_a_login_after_a_restart(
    make_user: Callable[..., TgUser], dispatcher: Dispatcher, bot: Bot
) -> None:
    # Redis kept the state, the process lost the login: the password is still deleted.
    nina = make_user(5014, language_code="en")
    key = StorageKey(bot_id=bot.id, chat_id=5014, user_id=5014)
    await dispatcher.storage.set_state(key, LinkStates.password)

    calls = await nina.send("my secret")

    assert isinstance(calls[0], DeleteMessage)
    assert [c.text for c in calls if isinstance(c, SendMessage)] == [t("en", "linking.none")]
    assert await dispatcher.storage.get_state(key) is None

    # Other commands keep working while a login waits for an answer.
    await dispatcher.storage.set_state(key, LinkStates.code)
    assert await nina.reply_to("/help") == t("en", "help")
    assert await dispatcher.storage.get_state(key) == LinkStates.code.state


async def test_shutdown_ends_open_logins(
    make_user: Callable[..., TgUser],
    recording: RecordingSession,
    logins: PendingLogins,
    counting: CountingFactory,
    world: World,
) -> None:
    olga = make_user(5015, language_code="en")
    _, url = await start_qr(olga)
    world.scan_qr(url, HELPER)
    await said(recording, 5015, t("en", "linking.password_ask"))
    await make_user(5016).send("/link")

    await logins.close()

    assert logins.stage(5015) is None and logins.stage(5016) is None
    assert not any(c.is_connected() for c in counting.made)


# --- /accounts -----------------------------------------------------------------------------
async def test_accounts_list_and_disable_enable(
    make_user: Callable[..., TgUser],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    pia = make_user(5020, language_code="en")
    assert await pia.reply_to("/accounts") == t("en", "accounts.empty")
    await link_by_qr(pia, world, WORKER, "@worker")
    await link_by_qr(pia, world, STRANGER, "Nameless")
    worker, stranger = await account_rows(sessionmaker)
    _, ws = await workspace_of(sessionmaker, 5020)

    (listing,) = [c for c in await pia.send("/accounts") if isinstance(c, SendMessage)]

    active = t("en", "accounts.status.active")
    assert (
        t(
            "en",
            "accounts.item",
            account="@worker",
            status=active,
            phone="+1********00",
            used=0,
            limit=30,
        )
        in listing.text
    )
    assert (
        t(
            "en",
            "accounts.item",
            account="Nameless",
            status=active,
            phone="+1********02",
            used=0,
            limit=30,
        )
        in listing.text
    )
    assert buttons(listing.reply_markup) == [
        (t("en", "accounts.disable", account="@worker"), f"acc:off:{ws}:{worker.id}"),
        (t("en", "accounts.unlink", account="@worker"), f"acc:unlink:{ws}:{worker.id}"),
        (t("en", "accounts.disable", account="Nameless"), f"acc:off:{ws}:{stranger.id}"),
        (t("en", "accounts.unlink", account="Nameless"), f"acc:unlink:{ws}:{stranger.id}"),
    ]
    assert all(len(data.encode()) <= 64 for _, data in buttons(listing.reply_markup))

    calls = await pia.press(listing, f"acc:off:{ws}:{worker.id}")

    (edit,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert edit.text.startswith(t("en", "accounts.disabled_done", account="@worker"))
    assert t("en", "accounts.status.disabled") in edit.text
    assert buttons(edit.reply_markup)[0] == (
        t("en", "accounts.enable", account="@worker"),
        f"acc:on:{ws}:{worker.id}",
    )
    assert (await account_rows(sessionmaker))[0].status is AccountStatus.DISABLED

    calls = await pia.press(listing, f"acc:on:{ws}:{worker.id}")
    (edit,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert edit.text.startswith(t("en", "accounts.enabled_done", account="@worker"))
    assert (await account_rows(sessionmaker))[0].status is AccountStatus.ACTIVE


async def test_unlink_by_owner_logs_the_session_out(
    make_user: Callable[..., TgUser],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
    accounts: AccountService,
) -> None:
    quinn = make_user(5021, language_code="en")
    await link_by_qr(quinn, world, WORKER, "@worker")
    (row,) = await account_rows(sessionmaker)
    user_id, ws = await workspace_of(sessionmaker, 5021)
    async with open_dal(sessionmaker) as dal:
        session = await accounts.session_of(dal, await accounts.get(dal, user_id, ws, row.id))
    (listing,) = [c for c in await quinn.send("/accounts") if isinstance(c, SendMessage)]

    calls = await quinn.press(listing, f"acc:unlink:{ws}:{row.id}")

    (confirm,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert confirm.text == t("en", "accounts.unlink_confirm", account="@worker")
    assert buttons(confirm.reply_markup) == [
        (t("en", "accounts.unlink_yes"), f"acc:yes:{ws}:{row.id}"),
        (t("en", "accounts.unlink_no"), f"acc:no:{ws}:{row.id}"),
    ]
    calls = await quinn.press(listing, f"acc:no:{ws}:{row.id}")  # changed their mind
    (back,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert back.text == listing.text
    assert len(await account_rows(sessionmaker)) == 1
    assert world.calls("LogOutRequest") == []

    calls = await quinn.press(listing, f"acc:yes:{ws}:{row.id}")

    (done,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert done.text == "\n\n".join(
        [t("en", "accounts.unlinked", account="@worker"), t("en", "accounts.empty")]
    )
    assert await account_rows(sessionmaker) == []
    assert [c.account for c in world.calls("LogOutRequest")] == [WORKER]
    assert await session_user(world, session) is None


async def test_manager_may_disable_but_not_unlink(
    make_user: Callable[..., TgUser],
    world: World,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    owner = make_user(5022, language_code="en")
    await link_by_qr(owner, world, WORKER, "@worker")
    (row,) = await account_rows(sessionmaker)
    _, ws = await workspace_of(sessionmaker, 5022)
    (listing,) = [c for c in await owner.send("/accounts") if isinstance(c, SendMessage)]
    manager = make_user(5023, language_code="ru")
    await manager.send("/start")
    async with sessionmaker() as session:
        manager_id = await session.scalar(select(User.id).where(User.telegram_id == 5023))
        session.add(Membership(workspace_id=ws, user_id=manager_id, role=WorkspaceRole.MANAGER))
        await session.commit()

    for data in (f"acc:unlink:{ws}:{row.id}", f"acc:yes:{ws}:{row.id}"):
        calls = await manager.press(listing, data)
        assert [(type(c), c.text, c.show_alert) for c in calls] == [
            (AnswerCallbackQuery, t("ru", "error.forbidden"), True)
        ]
    assert len(await account_rows(sessionmaker)) == 1
    assert world.calls("LogOutRequest") == []

    calls = await manager.press(listing, f"acc:off:{ws}:{row.id}")
    (redrawn,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert (await account_rows(sessionmaker))[0].status is AccountStatus.DISABLED
    # The list the manager sees offers what a manager may do: no Unlink button.
    assert [data for _text, data in buttons(redrawn.reply_markup)] == [f"acc:on:{ws}:{row.id}"]

    # Someone outside the workspace learns nothing, not even that it exists.
    stranger = make_user(5024, language_code="en")
    calls = await stranger.press(listing, f"acc:on:{ws}:{row.id}")
    assert [(type(c), c.text) for c in calls] == [(AnswerCallbackQuery, t("en", "error.not_found"))]
