"""Logins of Telegram accounts started from the bot (/link, /link_phone) while they are open.

The login itself is `gateway.pending_login`'s, shared with the panel: one per Telegram
user, ended after `LOGIN_TTL_S`, a half-made authorization that was not stored logged out
whatever ends it. What is the bot's is how it looks in the chat: `PendingLogins` (made by
the composition root, handed to handlers as workflow data) sends the QR code as a photo
once the client listens for the scan and edits it in place when the code is renewed, asks
each question in a message, and says how the login ended.

The FSM state in Redis says only which answer the chat waits for (phone, code, password).
After a restart the state may outlive the login; the handlers then say that the login is
gone, and a password sent into that state is still deleted.
"""

from __future__ import annotations

import asyncio
import io
import math
from dataclasses import dataclass
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

from core import telegram as tg
from core.accounts import account_label
from core.i18n import t
from core.interfaces import UserStore
from core.linking import CodeDelivery
from core.logs import get_logger
from core.users import current_workspace
from gateway import pending_login
from gateway.pending_login import LoginState, PendingLogin, Stop

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


_ASKS = {
    LoginState.PHONE: LinkStates.phone,
    LoginState.CODE: LinkStates.code,
    LoginState.PASSWORD: LinkStates.password,
}


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
class Chat:
    """What the bot keeps with a login: the chat it runs in and the QR photo shown there."""

    owner: LoginOwner
    bot: Bot
    state: FSMContext
    photo_id: int | None = None


_Pending = PendingLogin[Chat]


def qr_png(url: str) -> bytes:
    """The QR code of `url` as a PNG."""
    buffer = io.BytesIO()
    # Pillow's image, named: qrcode picks it by default when Pillow is installed (our
    # qrcode[pil] dependency), and only its save() takes a format.
    qrcode.make(url, image_factory=PilImage, box_size=8, border=4).save(buffer, format="PNG")
    return buffer.getvalue()


class PendingLogins(pending_login.PendingLogins[Chat]):
    """Open logins of the bot's users, found by Telegram user id; see the module docstring.

    Every method that answers for an existing login returns False when that user has no
    login at the stage the answer is for (expired, cancelled, or lost in a restart).
    """

    def stage(self, telegram_id: int) -> str | None:
        """qr | phone | code | password, or None without an open login."""
        pending = self._of(telegram_id)
        if pending is None:
            return None
        return "qr" if pending.state is LoginState.WAITING else pending.state.value

    def _of(self, telegram_id: int) -> _Pending | None:
        for pending in self._logins.values():
            if pending.edge.owner.telegram_id == telegram_id and not pending.ended:
                return pending
        return None

    # ---- what the person does -----------------------------------------------------------
    async def start_qr(self, owner: LoginOwner, bot: Bot, state: FSMContext) -> None:
        """Send the login QR as a photo and link the account once it is scanned."""
        await self._start(owner, bot, state, "qr")

    async def start_phone(self, owner: LoginOwner, bot: Bot, state: FSMContext) -> None:
        """Ask for the phone number; `phone()`, `code()` and `password()` take it from there."""
        await self._start(owner, bot, state, "phone")

    async def _start(self, owner: LoginOwner, bot: Bot, state: FSMContext, method: str) -> None:
        await state.set_state(None)  # a state left by a login lost in a restart
        chat = Chat(owner=owner, bot=bot, state=state)
        await self._begin(owner.user_id, owner.workspace_id, method, chat)

    async def refresh_qr(self, telegram_id: int, login_id: str) -> bool:
        """A new QR code in place of the shown one (the refresh button)."""
        pending = self._of(telegram_id)
        if pending is None or pending.id != login_id:
            return False
        return await self._answer(pending, LoginState.WAITING, "")

    async def phone(self, telegram_id: int, raw: str) -> bool:
        """The phone number typed by the user: send the login code to it."""
        return await self._reply(telegram_id, LoginState.PHONE, raw)

    async def code(self, telegram_id: int, raw: str) -> bool:
        """The login code typed by the user (spaces and dashes allowed)."""
        return await self._reply(telegram_id, LoginState.CODE, raw)

    async def password(self, telegram_id: int, password: str) -> bool:
        """The 2FA password (the caller has already deleted the message that held it)."""
        return await self._reply(telegram_id, LoginState.PASSWORD, password)

    async def _reply(self, telegram_id: int, state: LoginState, text: str) -> bool:
        pending = self._of(telegram_id)
        return pending is not None and await self._answer(pending, state, text)

    async def cancel(self, telegram_id: int) -> bool:
        """End the user's open login; False when there was none."""
        pending = self._of(telegram_id)
        return pending is not None and await self._drop(pending, Stop.CANCELLED)

    # ---- how it looks in the chat -------------------------------------------------------
    async def _enter(self, pending: _Pending) -> None:
        if pending.state is LoginState.WAITING:
            await self._show_qr(pending)
            return
        key, params = "linking.phone_ask", {}
        if pending.state is LoginState.PASSWORD:
            key = "linking.password_ask"
        elif pending.state is LoginState.CODE:
            sent = pending.code_sent
            assert sent is not None
            key = _CODE_ASK[sent.via]
            params = {"phone": tg.mask_phone(pending.phone), "email": sent.email_pattern or ""}
        await pending.edge.state.set_state(_ASKS[pending.state])
        await self._say(pending, key, **params)

    async def _qr_renewed(self, pending: _Pending) -> None:
        try:
            await self._show_qr(pending)
        except TelegramAPIError as exc:
            # The Bot API may be briefly unreachable: the next renewal shows a code again.
            log.warning("renewed QR code not shown", error=str(exc))

    async def _scanned(self, pending: _Pending) -> None:
        await self._retire_photo(pending, "linking.qr_scanned")

    async def _noted(self, pending: _Pending) -> None:
        assert pending.problem is not None
        await self._say(pending, f"linking.{pending.problem.reason}", **pending.problem.params)

    async def _ended(self, pending: _Pending) -> None:
        await self._retire_photo(pending, "linking.qr_expired")
        await pending.edge.state.clear()
        if pending.account is not None:
            name = account_label(pending.account.username, pending.account.first_name)
            key = "linking.linked" if pending.created else "linking.updated"
            await self._say(pending, key, account=name)
        elif pending.problem is not None:
            await self._say(pending, f"linking.{pending.problem.reason}", **pending.problem.params)

    async def _dropped(self, pending: _Pending, why: Stop) -> None:
        # On shutdown FSM states are left in place on purpose: the next answer (even a
        # password) then reaches a handler that deletes it and says the login is gone.
        if why is Stop.SHUTDOWN:
            return
        await self._retire_photo(pending, "linking.qr_expired")
        if why is Stop.CANCELLED:
            await pending.edge.state.clear()
        else:  # the new login asks its own question
            await pending.edge.state.set_state(None)

    async def _show_qr(self, pending: _Pending) -> None:
        assert pending.token is not None
        chat = pending.edge
        photo = BufferedInputFile(qr_png(pending.token.url), QR_FILE_NAME)
        left_s = pending.deadline - asyncio.get_running_loop().time()
        caption = _text(pending, "linking.qr_caption", minutes=max(1, math.ceil(left_s / 60)))
        keyboard = _refresh_keyboard(pending)
        chat_id = chat.owner.telegram_id
        if chat.photo_id is not None:
            try:
                await chat.bot.edit_message_media(
                    media=InputMediaPhoto(media=photo, caption=caption),
                    chat_id=chat_id,
                    message_id=chat.photo_id,
                    reply_markup=keyboard,
                )
                return
            except TelegramBadRequest as exc:
                # The photo is gone (deleted in the chat): send the new code as a new one.
                log.info("QR photo not editable; sending a new one", error=str(exc))
                await self._retire_photo(pending, "linking.qr_expired")
        message = await chat.bot.send_photo(chat_id, photo, caption=caption, reply_markup=keyboard)
        chat.photo_id = message.message_id

    @staticmethod
    async def _retire_photo(pending: _Pending, key: str) -> None:
        """The shown QR no longer logs anyone in: say so under it and drop the button."""
        chat = pending.edge
        photo_id, chat.photo_id = chat.photo_id, None
        if photo_id is None:
            return
        try:
            await chat.bot.edit_message_caption(
                chat_id=chat.owner.telegram_id, message_id=photo_id, caption=_text(pending, key)
            )
        except TelegramAPIError as exc:
            log.info("QR photo not retired", error=str(exc))

    @staticmethod
    async def _say(pending: _Pending, key: str, **params: Any) -> None:
        chat = pending.edge
        try:
            await chat.bot.send_message(chat.owner.telegram_id, _text(pending, key, **params))
        except TelegramAPIError as exc:  # e.g. the user blocked the bot meanwhile
            log.warning("linking message not delivered", error=str(exc))


def _text(pending: _Pending, key: str, **params: Any) -> str:
    return t(pending.edge.owner.lang, key, **params)


def _refresh_keyboard(pending: _Pending) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_text(pending, "linking.qr_refresh"), callback_data=RefreshQr(login=pending.id)
    )
    return builder.as_markup()


async def owner_of(store: UserStore, user_id: int, telegram_id: int, lang: str) -> LoginOwner:
    """The owner of a new login: the account goes to the user's current workspace."""
    workspace = await current_workspace(store, user_id)
    return LoginOwner(
        telegram_id=telegram_id, user_id=user_id, workspace_id=workspace.id, lang=lang
    )
