"""What the user sees when a handler fails: an apology with the trace id, never silence."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import ErrorEvent, User

from core.errors import Unavailable
from core.i18n import DEFAULT_LANGUAGE, pick_language, t
from core.logs import current_trace_id, get_logger
from db.engine import database_unreachable
from db.kv import REDIS_DOWN

log = get_logger(__name__)


async def on_error(
    event: ErrorEvent, bot: Bot, lang: str | None = None, event_from_user: User | None = None
) -> None:
    update = event.update
    if lang is None:
        # The failure came before the user middleware (aiogram's FSM storage reads Redis
        # first): Telegram's language of the sender is the best guess.
        lang = pick_language(event_from_user.language_code) if event_from_user else DEFAULT_LANGUAGE
    if isinstance(event.exception, TelegramNetworkError):
        # The Bot API did not answer (a dropped connection, a timeout): not a fault of this
        # code, and telling the user would need the same connection. One line, no traceback.
        log.warning(
            "update failed: Bot API unreachable",
            update_id=update.update_id,
            update_type=update.event_type,
            error=str(event.exception),
        )
        return
    if isinstance(event.exception, (Unavailable, *REDIS_DOWN)) or database_unreachable(
        event.exception
    ):
        # Redis or PostgreSQL down (FSM state, limits, any record): nothing is lost by trying
        # again once it is back.
        log.warning(
            "update failed: storage unreachable",
            update_id=update.update_id,
            update_type=update.event_type,
            error=type(event.exception).__name__,
        )
        text = t(lang, "bot.unavailable")
    else:
        log.error(
            "update failed",
            update_id=update.update_id,
            update_type=update.event_type,
            exc_info=event.exception,
        )
        text = t(lang, "bot.error", trace_id=current_trace_id() or "-")
    try:
        if update.message is not None and update.message.chat.type == "private":
            await bot.send_message(update.message.chat.id, text)
        elif update.callback_query is not None:
            await bot.answer_callback_query(update.callback_query.id, text=text, show_alert=True)
    except TelegramAPIError as exc:
        log.warning("could not report the failure to the user", error=str(exc))


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router
