"""One database session per update, handed to handlers as `dal: SqlDal`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.dal import open_dal


class DbSessionMiddleware(BaseMiddleware):
    """Opens the session before the handler and closes it after, whatever happens.

    The use case commits; anything left uncommitted is rolled back when the session closes.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with open_dal(self._sessionmaker) as dal:
            data["dal"] = dal
            return await handler(event, data)
