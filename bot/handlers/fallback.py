"""The last router: commands nobody handled, buttons nobody recognised, and messages that
came when no flow waited for them."""

from __future__ import annotations

import re

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.commands import COMMANDS
from core.i18n import t

_ANY_COMMAND = re.compile(r".+")


async def not_available_yet(message: Message, lang: str) -> None:
    # A public command reaching this router has no feature router in this build yet
    # (/accounts, /link, /link_phone, /parse, /search, /tasks, /audiences, /campaign_new,
    # /campaigns and /team have theirs, in private chats and groups alike).
    await message.answer(t(lang, "not_available_yet"))


async def unknown_command(message: Message, lang: str) -> None:
    await message.answer(t(lang, "unknown_command"))


async def outside_flow(message: Message, lang: str) -> None:
    # Text, a file or a photo in a private chat that no flow waits for (a login's code or
    # password, an import file, a wizard's answer): say what the bot understands instead of
    # leaving the person wondering whether it heard them.
    await message.answer(t(lang, "outside_flow"))


async def stale_button(query: CallbackQuery) -> None:
    # Stops the client's spinner on buttons of old or foreign keyboards.
    await query.answer()


def create_router() -> Router:
    router = Router(name=__name__)
    # /admin reaching this router comes from a non-admin: it is "unknown" to them, so the
    # menu's existence is not revealed (bot/handlers/admin.py).
    router.message.register(not_available_yet, Command(*(c for c in COMMANDS if c != "admin")))
    # Command() also skips commands addressed to another bot (/cmd@other_bot).
    router.message.register(unknown_command, Command(_ANY_COMMAND))
    # Only where the bot is spoken to: in a group, other people's talk is not for it.
    router.message.register(outside_flow, F.chat.type == "private")
    router.callback_query.register(stale_button)
    return router
