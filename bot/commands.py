"""The bot's public commands (DESIGN §8) and the command menu Telegram shows for them."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeDefault, Message

from core.i18n import t

COMMANDS: tuple[str, ...] = (
    "start",
    "help",
    "lang",
    "web_auth",
    "accounts",
    "link",
    "link_phone",
    "parse",
    "search",
    "tasks",
    "audiences",
    "campaign_new",
    "campaigns",
    "team",
    "erase",
    "optouts",
    "admin",
    "optout",
    "optin",
)


async def private_only(message: Message, lang: str) -> None:
    """The answer to a command that works in the private chat only, sent in a group."""
    await message.answer(t(lang, "private_only"))


def command_menu(language: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(language, f"cmd.{name}")) for name in COMMANDS]


async def set_bot_commands(bot: Bot) -> None:
    """English for everyone, Russian for clients whose language is Russian."""
    await bot.set_my_commands(command_menu("en"), scope=BotCommandScopeDefault())
    await bot.set_my_commands(
        command_menu("ru"), scope=BotCommandScopeDefault(), language_code="ru"
    )
