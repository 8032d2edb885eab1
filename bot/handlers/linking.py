"""/link, /link_phone and /cancel, and the answers a login waits for (phone, code, password).

The flow itself is `bot.linking.PendingLogins`; these handlers only route the chat to it.
Logins run in private chats only: a QR code or a password has no place in a group.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.commands import COMMANDS, private_only
from bot.linking import LinkStates, PendingLogins, RefreshQr, owner_of
from core.dto import UserDTO
from core.i18n import t
from core.logs import get_logger
from db.dal import SqlDal

log = get_logger(__name__)

LINK_COMMANDS = ("link", "link_phone", "cancel")


async def cmd_link(
    message: Message,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    logins: PendingLogins,
) -> None:
    owner = await owner_of(dal, user.id, message.chat.id, lang)
    await logins.start_qr(owner, bot, state)


async def cmd_link_phone(
    message: Message,
    bot: Bot,
    state: FSMContext,
    dal: SqlDal,
    user: UserDTO,
    lang: str,
    logins: PendingLogins,
) -> None:
    owner = await owner_of(dal, user.id, message.chat.id, lang)
    await logins.start_phone(owner, bot, state)


async def cmd_cancel(message: Message, state: FSMContext, lang: str, logins: PendingLogins) -> None:
    # A state without a login (the bot restarted meanwhile) is cancelled just the same.
    cancelled = await logins.cancel(message.chat.id) or await state.get_state() is not None
    await state.clear()
    await message.answer(t(lang, "linking.cancelled" if cancelled else "linking.nothing_to_cancel"))


async def on_refresh(
    query: CallbackQuery, callback_data: RefreshQr, lang: str, logins: PendingLogins
) -> None:
    renewed = await logins.refresh_qr(query.from_user.id, callback_data.login)
    await query.answer(t(lang, "linking.qr_refreshed" if renewed else "linking.qr_stale"))


async def on_phone(message: Message, state: FSMContext, lang: str, logins: PendingLogins) -> None:
    if not await logins.phone(message.chat.id, message.text or ""):
        await _gone(message, state, lang)


async def on_code(message: Message, state: FSMContext, lang: str, logins: PendingLogins) -> None:
    if not await logins.code(message.chat.id, message.text or ""):
        await _gone(message, state, lang)


async def on_password(
    message: Message, state: FSMContext, lang: str, logins: PendingLogins
) -> None:
    # First of all: the password must not stay in the chat history.
    try:
        await message.delete()
    except TelegramAPIError as exc:
        log.warning("password message not deleted", error=str(exc))
    if not await logins.password(message.chat.id, message.text or ""):
        await _gone(message, state, lang)


async def _gone(message: Message, state: FSMContext, lang: str) -> None:
    await state.clear()
    await message.answer(t(lang, "linking.none"))


def create_router() -> Router:
    router = Router(name=__name__)
    private = F.chat.type == "private"
    router.message.register(cmd_link, Command("link"), private)
    router.message.register(cmd_link_phone, Command("link_phone"), private)
    router.message.register(cmd_cancel, Command("cancel"), private)
    router.message.register(private_only, Command(*LINK_COMMANDS))
    router.callback_query.register(on_refresh, RefreshQr.filter())
    # Any other text answers the waiting question, even one starting with "/" (a password
    # may); only real commands keep their meaning.
    answer = (private, F.text, ~Command(*COMMANDS, *LINK_COMMANDS))
    router.message.register(on_password, LinkStates.password, *answer)
    router.message.register(on_code, LinkStates.code, *answer)
    router.message.register(on_phone, LinkStates.phone, *answer)
    return router
