"""A trace id for every update and one structured line saying how its handling went.

The line carries the update's id and type, the sender's Telegram id and the time spent,
never the message text: chats may hold login codes and personal data. The time spent also
goes to a histogram in Redis, which the API's /metrics reads (the bot serves no HTTP).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update, User

from core.logs import get_logger, new_trace_id
from db.metrics import RedisHistogram

log = get_logger(__name__)


class UpdateLogMiddleware(BaseMiddleware):
    """Outermost of ours. The trace id stays bound after it returns, so the error handler
    (which runs outside every middleware) and its log line still carry it; polling runs
    each update in its own task, so the binding never leaks into another update."""

    def __init__(self, timings: RedisHistogram | None = None) -> None:
        self._timings = timings

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        trace_id = new_trace_id()
        data["trace_id"] = trace_id
        started = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            elapsed = time.perf_counter() - started
            sender: User | None = data.get("event_from_user")
            update_type = event.event_type if isinstance(event, Update) else type(event).__name__
            log.info(
                "update",
                update_id=event.update_id if isinstance(event, Update) else None,
                update_type=update_type,
                from_id=sender.id if sender else None,
                outcome=outcome,
                duration_ms=round(elapsed * 1000, 1),
            )
            if self._timings is not None:
                await self._timings.observe((update_type, outcome), elapsed)
