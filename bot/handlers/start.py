"""/start, /help and /lang: registration greeting, the command list, the language switch."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core.dto import UserDTO
from core.i18n import LANGUAGE_NAMES, t
from core.users import LANGUAGES, set_language
from db.dal import SqlDal


class LanguageChoice(CallbackData, prefix="lang"):
    """Packs to `lang:ru` / `lang:en`."""

    code: str


def _display_name(user: UserDTO) -> str:
    return user.first_name or (f"@{user.username}" if user.username else str(user.telegram_id))


def _language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in LANGUAGES:
        builder.button(text=LANGUAGE_NAMES[code], callback_data=LanguageChoice(code=code))
    return builder.as_markup()


async def cmd_start(message: Message, user: UserDTO, lang: str, user_created: bool) -> None:
    key = "start.new" if user_created else "start.again"
    await message.answer(t(lang, key, name=_display_name(user)))


async def cmd_help(message: Message, lang: str) -> None:
    await message.answer(t(lang, "help"))


async def cmd_lang(message: Message, lang: str) -> None:
    await message.answer(t(lang, "lang.choose"), reply_markup=_language_keyboard())


async def on_language(
    query: CallbackQuery, callback_data: LanguageChoice, dal: SqlDal, user: UserDTO
) -> None:
    updated = await set_language(dal, user.id, callback_data.code)
    text = t(updated.language, "lang.set")
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
        await query.answer()
    else:  # the message is too old to edit, or was sent in inline mode
        await query.answer(text)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_lang, Command("lang"))
    router.callback_query.register(on_language, LanguageChoice.filter(F.code.in_(LANGUAGES)))
    return router
