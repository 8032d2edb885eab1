"""Who sent the update: the registered user, their language, and the blocked-user gate.

Registration itself is `core.users.register`; this middleware only turns the Telegram
sender into a `TelegramProfile` and puts the result where handlers can ask for it:
`user: UserDTO`, `lang: str`, `user_created: bool`. The row comes from the process's
`SenderCache` when it holds it (it forgets a user the moment PostgreSQL announces a change
to their row, so an admin's block or a granted role applies at the next update), else it is
read; it is written only when the sender's name, username or language changed
(`core.users.sender`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update, User

from core.dto import TelegramProfile, UserDTO
from core.i18n import t
from core.logs import get_logger
from core.users import sender as registered_sender
from db.dal import SqlDal
from db.sender_cache import SenderCache

log = get_logger(__name__)


def profile_of(sender: User) -> TelegramProfile:
    return TelegramProfile(
        telegram_id=sender.id,
        username=sender.username,
        first_name=sender.first_name,
        last_name=sender.last_name,
        language_code=sender.language_code,
    )


class UserMiddleware(BaseMiddleware):
    def __init__(self, admin_ids: Iterable[int], senders: SenderCache | None = None) -> None:
        self._admin_ids = frozenset(admin_ids)
        self._senders = senders

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: User | None = data.get("event_from_user")
        if sender is None:
            return await handler(event, data)
        if sender.is_bot:
            # Other bots and anonymous group admins are not users of this product.
            return None
        dal: SqlDal = data["dal"]
        user, created = await self._sender(dal, profile_of(sender))
        if user.blocked:
            log.info("blocked user ignored", user_id=user.id)
            await _tell_blocked(data["bot"], event, user)
            return None
        data["user"] = user
        data["lang"] = user.language
        data["user_created"] = created
        return await handler(event, data)

    async def _sender(self, dal: SqlDal, profile: TelegramProfile) -> tuple[UserDTO, bool]:
        if self._senders is None:
            return await registered_sender(dal, profile, self._admin_ids)
        remembered = self._senders.get(profile.telegram_id)
        mark = self._senders.mark()
        user, created = await registered_sender(
            dal, profile, self._admin_ids, remembered=remembered
        )
        if user is not remembered:
            self._senders.put(user, mark)
        return user, created


async def _tell_blocked(bot: Bot, event: TelegramObject, user: UserDTO) -> None:
    """One answer per update, and only where it reaches the user alone (no group spam)."""
    if not isinstance(event, Update):
        return
    text = t(user.language, "blocked")
    if event.message is not None and event.message.chat.type == "private":
        await bot.send_message(event.message.chat.id, text)
    elif event.callback_query is not None:
        await bot.answer_callback_query(event.callback_query.id, text=text, show_alert=True)
