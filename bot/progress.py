"""Keeps the one progress message of each collection task current (DESIGN §6).

Workers only say "task N moved on" or "task N ended" (notices `parse_progress` and
`parse_done`); the message is drawn from the task's row at the moment of the edit, so a
late or repeated notice shows the latest state, never an older one. A message is edited at
most once per `EDIT_EVERY_S` (a Redis key per task, so the limit survives a restart of
the bot); the final state is always shown.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.parsing_view import render_task
from core.dto import AudienceDTO, ParseTaskDTO
from core.i18n import DEFAULT_LANGUAGE
from core.logs import get_logger
from core.parsing import ParseStatus
from core.validation import is_number
from db.dal import open_dal

log = get_logger(__name__)

PROGRESS_KINDS = ("parse_progress", "parse_done")
EDIT_EVERY_S = 2.0
MAX_RETRY_AFTER_S = 10
_EDIT_KEY = "bot:task_edit:{task_id}"
# The message is gone or too old: a final summary then goes out as a new message.
_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")


async def show_task_notice(
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis | None,
    telegram_id: int,
    kind: str,
    payload: dict[str, str],
) -> None:
    """Show a worker's notice about a task: edit its progress message (or, for a task
    that ended without one, e.g. created in the web panel, send the summary)."""
    raw = str(payload.get("task_id", ""))
    if not is_number(raw):
        log.warning("task notice without a task id", kind=kind)
        return
    async with open_dal(sessionmaker) as dal:
        task = await dal.find_parse_task(int(raw))
        if task is None:
            return  # deleted with its workspace or audience meanwhile
        finished = ParseStatus(task.status).finished
        # Checked before anything else is read: most progress notices are dropped here.
        if not finished and not await edit_due(redis, _EDIT_KEY.format(task_id=task.id)):
            return
        user = await dal.get_user_by_telegram_id(telegram_id)
        audience = await dal.get_audience(task.workspace_id, task.audience_id)
    lang = user.language if user else DEFAULT_LANGUAGE
    shown = await show_task(bot, task, audience, lang)
    if not shown and finished:
        text, keyboard = render_task(task, audience, lang, datetime.now(UTC))
        await bot.send_message(task.notify_chat_id or telegram_id, text, reply_markup=keyboard)


async def edit_due(redis: Redis | None, key: str) -> bool:
    """True at most once per `EDIT_EVERY_S` for this key (always without Redis)."""
    if redis is None:
        return True
    return bool(await redis.set(key, b"1", nx=True, px=int(EDIT_EVERY_S * 1000)))


async def show_task(bot: Bot, task: ParseTaskDTO, audience: AudienceDTO | None, lang: str) -> bool:
    """Redraw the task's progress message; False when it has none (or it is gone)."""
    if task.notify_chat_id is None or task.notify_message_id is None:
        return False
    text, keyboard = render_task(task, audience, lang, datetime.now(UTC))
    return await edit_text(bot, task.notify_chat_id, task.notify_message_id, text, keyboard)


async def edit_text(
    bot: Bot, chat_id: int, message_id: int, text: str, keyboard: InlineKeyboardMarkup | None
) -> bool:
    """Edit a message in place; an unchanged text counts as done. False when it is gone."""
    for attempt in (1, 2):
        try:
            await bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard
            )
            return True
        except TelegramRetryAfter as exc:
            if attempt == 2 or exc.retry_after > MAX_RETRY_AFTER_S:
                raise
            await asyncio.sleep(exc.retry_after)
        except TelegramBadRequest as exc:
            description = exc.message.lower()
            if "message is not modified" in description:
                return True
            if any(reason in description for reason in _GONE):
                return False
            raise
    return False


async def show_in_place(
    query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """Redraw the message whose button was pressed; one too old to edit gets a fresh one."""
    if isinstance(query.message, Message):
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                raise
        return
    if query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=keyboard)
