"""Logins of Telegram accounts started from the bot (/link, /link_phone) while they are open.

An open login is a connected Telethon client that cannot be stored anywhere, so it lives in
this process only: `PendingLogins` (made by the composition root, handed to handlers as
workflow data) holds at most one per Telegram user. A new one abandons the old; every one
ends after `LOGIN_TTL_S`, and whatever ends it logs out a half-made authorization that was
not stored. For a QR login it also keeps the code alive: the photo is sent only once the
client listens for the scan, and it is replaced before Telegram lets the code expire.

The FSM state in Redis says only which answer the chat waits for (phone, code, password).
After a restart the state may outlive the login; the handlers then say that the login is
gone, and a password sent into that state is still deleted.
"""

from __future__ import annotations

import asyncio
import io
import math
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import qrcode
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, InputMediaPhoto
from aiogram.utils.keyboard import InlineKeyboardBuilder
from qrcode.image.pil import PilImage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import AccountService, account_label
from core.errors import InvalidInput
from core.i18n import t
from core.interfaces import UserStore
from core.linking import (
    LOGIN_TTL_S,
    MAX_TRIES,
    QR_RENEW_MARGIN_S,
    CodeDelivery,
    login_failure,
    parse_login_code,
    parse_phone,
    qr_renew_after,
)
from core.logs import get_logger
from core.users import current_workspace
from db.dal import open_dal
from gateway.login import PhoneLogin, QrLogin, QrToken
from gateway.telegram import TelegramGateway

log = get_logger(__name__)

QR_FILE_NAME = "login-qr.png"

_CODE_ASK = {
    CodeDelivery.APP: "linking.code_ask",
    CodeDelivery.SMS: "linking.code_ask_sms",
    CodeDelivery.CALL: "linking.code_ask_call",
    CodeDelivery.EMAIL: "linking.code_ask_email",
    CodeDelivery.OTHER: "linking.code_ask_other",
}
"""What to tell the person: where the code went, so they know where to look."""


class LinkStates(StatesGroup):
    """The answer a chat waits for while a login is open."""

    phone = State()
    code = State()
    password = State()


class RefreshQr(CallbackData, prefix="qr"):
    """The refresh button under a QR photo; `login` names the login it belongs to."""

    login: str


@dataclass(frozen=True, slots=True)
class LoginOwner:
    """Who links, and where the account goes: the user's current workspace (see /team)."""

    telegram_id: int
    """Also the private chat's id."""
    user_id: int
    workspace_id: int
    lang: str


@dataclass(eq=False)
class _Pending:
    id: str
    owner: LoginOwner
    bot: Bot
    state: FSMContext
    login: QrLogin | PhoneLogin
    deadline: float
    """Loop time at which the login ends."""
    stage: str
    """qr | phone | code | password"""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tries: int = 0
    token: QrToken | None = None
    renew_at: float = 0.0
    photo_id: int | None = None
    stored: bool = False
    """The session is in the database: end the client, never log it out."""
    done: bool = False
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def text(self, key: str, **params: Any) -> str:
        return t(self.owner.lang, key, **params)

    @property
    def qr(self) -> QrLogin:
        assert isinstance(self.login, QrLogin), "not a QR login"
        return self.login

    @property
    def by_phone(self) -> PhoneLogin:
        assert isinstance(self.login, PhoneLogin), "not a phone login"
        return self.login


def qr_png(url: str) -> bytes:
    """The QR code of `url` as a PNG."""
    buffer = io.BytesIO()
    # Pillow's image, named: qrcode picks it by default when Pillow is installed (our
    # qrcode[pil] dependency), and only its save() takes a format.
    qrcode.make(url, image_factory=PilImage, box_size=8, border=4).save(buffer, format="PNG")
    return buffer.getvalue()


class PendingLogins:
    """Open logins by Telegram user id; see the module docstring.

    Every method that answers for an existing login returns False when that user has no
    login at the stage the answer is for (expired, cancelled, or lost in a restart).
    """

    def __init__(
        self,
        gateway: TelegramGateway,
        accounts: AccountService,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        ttl_s: float = LOGIN_TTL_S,
        qr_renew_margin_s: float = QR_RENEW_MARGIN_S,
    ) -> None:
        self._gateway = gateway
        self._accounts = accounts
        self._sessionmaker = sessionmaker
        self.ttl_s = ttl_s
        self._margin_s = qr_renew_margin_s
        self._pending: dict[int, _Pending] = {}
        self._closed = False

    def stage(self, telegram_id: int) -> str | None:
        pending = self._pending.get(telegram_id)
        return pending.stage if pending is not None and not pending.done else None

    # ---- starting -----------------------------------------------------------------------
    async def start_qr(self, owner: LoginOwner, bot: Bot, state: FSMContext) -> None:
        """Send the login QR as a photo and link the account once it is scanned."""
        pending = await self._open(owner, bot, state, self._gateway.qr_login(), "qr")
        async with pending.lock:
            if pending.done:
                return
            try:
                token = await pending.qr.token()
            except (tg.TelegramError, ConnectionError) as exc:
                await self._fail(pending, exc)
                return
            if token is None:  # a brand-new client cannot have been scanned yet
                await self._fail(pending, tg.TelegramError("QR_NOT_ISSUED"))
                return
            self._set_token(pending, token)
            # The client already listens for the scan (token() saw to that); the watcher
            # collects the outcome and renews the code. Only then may anyone see it.
            self._spawn(pending, self._watch_qr(pending))
            try:
                await self._show_qr(pending)
            except Exception:
                await self._end(pending)  # nobody can scan a code that was never shown
                raise

    async def start_phone(self, owner: LoginOwner, bot: Bot, state: FSMContext) -> None:
        """Ask for the phone number; `phone()`, `code()` and `password()` take it from there."""
        pending = await self._open(owner, bot, state, self._gateway.phone_login(), "phone")
        async with pending.lock:
            if pending.done:
                return
            await state.set_state(LinkStates.phone)
            await self._say(pending, "linking.phone_ask")

    async def _open(
        self,
        owner: LoginOwner,
        bot: Bot,
        state: FSMContext,
        login: QrLogin | PhoneLogin,
        stage: str,
    ) -> _Pending:
        if self._closed:
            await login.close()
            raise RuntimeError("the bot is shutting down")
        old = self._pending.pop(owner.telegram_id, None)
        if old is not None:
            async with old.lock:
                await self._end(old, clear_state=False)
        await state.set_state(None)
        loop = asyncio.get_running_loop()
        pending = _Pending(
            id=secrets.token_hex(4),
            owner=owner,
            bot=bot,
            state=state,
            login=login,
            deadline=loop.time() + self.ttl_s,
            stage=stage,
        )
        self._pending[owner.telegram_id] = pending
        self._spawn(pending, self._expire_later(pending))
        return pending

    # ---- the QR code --------------------------------------------------------------------
    async def refresh_qr(self, telegram_id: int, login_id: str) -> bool:
        """A new QR code in place of the shown one (the refresh button)."""
        pending = self._pending.get(telegram_id)
        if pending is None or pending.id != login_id or pending.stage != "qr":
            return False
        async with pending.lock:
            if pending.done or pending.stage != "qr":
                return False
            try:
                await self._renew_qr(pending)
            except (tg.TelegramError, ConnectionError) as exc:
                await self._fail(pending, exc)
        return True

    def _set_token(self, pending: _Pending, token: QrToken) -> None:
        renew_in = qr_renew_after(token.expires_at, datetime.now(UTC), self._margin_s)
        pending.token = token
        pending.renew_at = asyncio.get_running_loop().time() + renew_in

    async def _renew_qr(self, pending: _Pending) -> None:
        token = await pending.qr.token()
        if token is None:
            return  # scanned meanwhile: the watcher has the outcome now
        self._set_token(pending, token)
        try:
            await self._show_qr(pending)
        except TelegramAPIError as exc:
            # The Bot API may be briefly unreachable: the next renewal shows a code again.
            log.warning("renewed QR code not shown", error=str(exc))

    async def _show_qr(self, pending: _Pending) -> None:
        assert pending.token is not None
        photo = BufferedInputFile(qr_png(pending.token.url), QR_FILE_NAME)
        left_s = pending.deadline - asyncio.get_running_loop().time()
        caption = pending.text("linking.qr_caption", minutes=max(1, math.ceil(left_s / 60)))
        keyboard = self._refresh_keyboard(pending)
        chat_id = pending.owner.telegram_id
        if pending.photo_id is not None:
            try:
                await pending.bot.edit_message_media(
                    media=InputMediaPhoto(media=photo, caption=caption),
                    chat_id=chat_id,
                    message_id=pending.photo_id,
                    reply_markup=keyboard,
                )
                return
            except TelegramBadRequest as exc:
                # The photo is gone (deleted in the chat): send the new code as a new one.
                log.info("QR photo not editable; sending a new one", error=str(exc))
                await self._retire_photo(pending, "linking.qr_expired")
        message = await pending.bot.send_photo(
            chat_id, photo, caption=caption, reply_markup=keyboard
        )
        pending.photo_id = message.message_id

    def _refresh_keyboard(self, pending: _Pending) -> InlineKeyboardMarkup:
        builder = InlineKeyboardBuilder()
        builder.button(
            text=pending.text("linking.qr_refresh"), callback_data=RefreshQr(login=pending.id)
        )
        return builder.as_markup()

    async def _retire_photo(self, pending: _Pending, key: str) -> None:
        """The shown QR no longer logs anyone in: say so under it and drop the button."""
        photo_id, pending.photo_id = pending.photo_id, None
        if photo_id is None:
            return
        try:
            await pending.bot.edit_message_caption(
                chat_id=pending.owner.telegram_id, message_id=photo_id, caption=pending.text(key)
            )
        except TelegramAPIError as exc:
            log.info("QR photo not retired", error=str(exc))

    async def _watch_qr(self, pending: _Pending) -> None:
        """Wait for the scan; renew the code on time; then link or ask for the password."""
        qr = pending.qr
        loop = asyncio.get_running_loop()
        while True:
            token = pending.token
            try:
                info = await qr.wait(min(pending.renew_at, pending.deadline) - loop.time())
            except tg.LoginTimeout:
                if loop.time() >= pending.deadline:
                    return  # the expiry timer ends the login
                async with pending.lock:
                    if pending.done:
                        return
                    if pending.token is token:  # not renewed by the button meanwhile
                        try:
                            await self._renew_qr(pending)
                        except (tg.TelegramError, ConnectionError) as exc:
                            await self._fail(pending, exc)
                            return
                continue
            except tg.PasswordNeeded:
                async with pending.lock:
                    if pending.done:
                        return
                    await self._retire_photo(pending, "linking.qr_scanned")
                    await self._ask_password(pending)
                return
            except (tg.TelegramError, ConnectionError) as exc:
                async with pending.lock:
                    await self._fail(pending, exc)
                return
            async with pending.lock:
                if pending.done:
                    return
                await self._retire_photo(pending, "linking.qr_scanned")
                await self._link(pending, info)
            return

    # ---- phone, code, password ----------------------------------------------------------
    async def phone(self, telegram_id: int, raw: str) -> bool:
        """The phone number typed by the user: send the login code to it."""
        pending = self._at_stage(telegram_id, "phone")
        if pending is None:
            return False
        async with pending.lock:
            if pending.done:
                return False
            try:
                phone = parse_phone(raw)
            except InvalidInput:
                await self._say(pending, "linking.phone_invalid")
                return True
            try:
                sent = await pending.by_phone.send_code(phone)
            except tg.PhoneInvalid:
                await self._say(pending, "linking.phone_rejected")
                return True
            except tg.PhoneNotRegistered:
                await self._end(pending, text=pending.text("linking.phone_not_registered"))
                return True
            except tg.LoginEmailRequired:
                # No code exists to wait for: only the person can unblock it, in Telegram.
                await self._end(pending, text=pending.text("linking.email_setup_required"))
                return True
            except (tg.TelegramError, ConnectionError) as exc:
                await self._fail(pending, exc)
                return True
            pending.stage = "code"
            pending.tries = 0
            await pending.state.set_state(LinkStates.code)
            masked, email = tg.mask_phone(phone), sent.email_pattern or ""
            await self._say(pending, _CODE_ASK[sent.via], phone=masked, email=email)
        return True

    async def code(self, telegram_id: int, raw: str) -> bool:
        """The login code typed by the user (spaces and dashes allowed)."""
        pending = self._at_stage(telegram_id, "code")
        if pending is None:
            return False
        async with pending.lock:
            if pending.done:
                return False
            try:
                code = parse_login_code(raw)
            except InvalidInput:
                await self._say(pending, "linking.code_invalid")
                return True
            try:
                info = await pending.by_phone.sign_in(code)
            except tg.WrongCode:
                await self._wrong(pending, "code")
                return True
            except tg.PasswordNeeded:
                await self._ask_password(pending)
                return True
            except tg.CodeExpired:
                await self._end(pending, text=pending.text("linking.code_expired"))
                return True
            except tg.PhoneNotRegistered:
                await self._end(pending, text=pending.text("linking.phone_not_registered"))
                return True
            except (tg.TelegramError, ConnectionError) as exc:
                await self._fail(pending, exc)
                return True
            await self._link(pending, info)
        return True

    async def password(self, telegram_id: int, password: str) -> bool:
        """The 2FA password (the caller has already deleted the message that held it)."""
        pending = self._at_stage(telegram_id, "password")
        if pending is None:
            return False
        async with pending.lock:
            if pending.done:
                return False
            try:
                info = await pending.login.check_password(password)
            except tg.WrongPassword:
                await self._wrong(pending, "password")
                return True
            except (tg.TelegramError, ConnectionError) as exc:
                await self._fail(pending, exc)
                return True
            await self._link(pending, info)
        return True

    async def _wrong(self, pending: _Pending, what: str) -> None:
        """A wrong code or password: say how many tries are left, or end the login after the last."""
        pending.tries += 1
        if pending.tries >= MAX_TRIES:
            await self._end(pending, text=pending.text(f"linking.{what}_aborted", tries=MAX_TRIES))
        else:
            await self._say(pending, f"linking.{what}_wrong", left=MAX_TRIES - pending.tries)

    async def _ask_password(self, pending: _Pending) -> None:
        pending.stage = "password"
        pending.tries = 0
        await pending.state.set_state(LinkStates.password)
        await self._say(pending, "linking.password_ask")

    def _at_stage(self, telegram_id: int, stage: str) -> _Pending | None:
        pending = self._pending.get(telegram_id)
        if pending is None or pending.done or pending.stage != stage:
            return None
        return pending

    # ---- ending -------------------------------------------------------------------------
    async def cancel(self, telegram_id: int) -> bool:
        """End the user's open login; False when there was none."""
        pending = self._pending.get(telegram_id)
        if pending is None:
            return False
        async with pending.lock:
            if pending.done:
                return False
            await self._end(pending)
        return True

    async def close(self) -> None:
        """On shutdown: end every open login, logging out what was not stored.

        FSM states are left in place on purpose: the next answer (even a password) then
        reaches a handler that deletes it and says the login is gone.
        """
        self._closed = True
        pendings = list(self._pending.values())
        self._pending.clear()
        for pending in pendings:
            # Taking the lock first lets a step under way (storing a session) finish.
            async with pending.lock:
                tasks = [task for task in pending.tasks if not task.done()]
                for task in tasks:
                    task.cancel()
                if not pending.done:
                    pending.done = True
                    await self._end_login(pending)
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _expire_later(self, pending: _Pending) -> None:
        await asyncio.sleep(max(0.0, pending.deadline - asyncio.get_running_loop().time()))
        async with pending.lock:
            minutes = max(1, round(self.ttl_s / 60))
            await self._end(pending, text=pending.text("linking.expired", minutes=minutes))

    async def _link(self, pending: _Pending, info: tg.AccountInfo) -> None:
        """Store the fresh session in the owner's workspace and end the login."""
        owner = pending.owner
        try:
            session = pending.login.session_string()
            async with open_dal(self._sessionmaker) as dal:
                account, created = await self._accounts.link(
                    dal, owner.user_id, owner.workspace_id, info, session
                )
            pending.stored = True
        except Exception:
            # Whatever failed, the fresh authorization must not outlive the login unnoticed:
            # ending the login below logs it out.
            log.exception("linked account not stored", user_id=owner.user_id)
            await self._end(pending, text=pending.text("linking.store_failed"))
            return
        log.info("account linked", user_id=owner.user_id, account_id=account.id, created=created)
        name = account_label(account.username, account.first_name)
        key = "linking.linked" if created else "linking.updated"
        await self._end(pending, text=pending.text(key, account=name))

    async def _fail(self, pending: _Pending, exc: BaseException) -> None:
        """End the login on a refusal, saying what Telegram meant and what the person can do."""
        failure = login_failure(exc)
        text = pending.text(f"linking.{failure.reason}", **failure.params)
        log.warning("login failed", user_id=pending.owner.user_id, error=type(exc).__name__)
        await self._end(pending, text=text)

    async def _end(
        self, pending: _Pending, *, text: str | None = None, clear_state: bool = True
    ) -> None:
        """End a login once (the caller holds its lock): stop its tasks, end the client,
        retire its QR photo, clear the chat's state and say `text`."""
        if pending.done:
            return
        pending.done = True
        if self._pending.get(pending.owner.telegram_id) is pending:
            del self._pending[pending.owner.telegram_id]
        current = asyncio.current_task()
        for task in pending.tasks:
            if task is not current:
                task.cancel()
        await self._end_login(pending)
        await self._retire_photo(pending, "linking.qr_expired")
        if clear_state:
            await pending.state.clear()
        if text is not None:
            await self._send(pending, text)

    @staticmethod
    async def _end_login(pending: _Pending) -> None:
        try:
            if pending.stored:
                await pending.login.close()
            else:
                await pending.login.abandon()
        # The connection may already be broken; there is nothing to keep.
        except Exception as exc:  # noqa: BLE001
            log.warning("login client not closed cleanly", error=type(exc).__name__)

    # ---- plumbing -----------------------------------------------------------------------
    def _spawn(self, pending: _Pending, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        pending.tasks.add(task)
        task.add_done_callback(pending.tasks.discard)
        task.add_done_callback(_log_crash)

    async def _say(self, pending: _Pending, key: str, **params: Any) -> None:
        await self._send(pending, pending.text(key, **params))

    @staticmethod
    async def _send(pending: _Pending, text: str) -> None:
        try:
            await pending.bot.send_message(pending.owner.telegram_id, text)
        except TelegramAPIError as exc:  # e.g. the user blocked the bot meanwhile
            log.warning("linking message not delivered", error=str(exc))


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("login task failed", exc_info=task.exception())


async def owner_of(store: UserStore, user_id: int, telegram_id: int, lang: str) -> LoginOwner:
    """The owner of a new login: the account goes to the user's current workspace."""
    workspace = await current_workspace(store, user_id)
    return LoginOwner(
        telegram_id=telegram_id, user_id=user_id, workspace_id=workspace.id, lang=lang
    )
