"""What the user sees when a handler fails: an apology with the trace id, never silence."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from core.i18n import DEFAULT_LANGUAGE, t
from core.logs import current_trace_id, get_logger

log = get_logger(__name__)


async def on_error(event: ErrorEvent, bot: Bot, lang: str = DEFAULT_LANGUAGE) -> None:
    update = event.update
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
