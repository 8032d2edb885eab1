"""Redis unreachable: the bot says "try again in a minute" instead of dropping the update."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_dispatcher
from bot.linking import PendingLogins
from core.accounts import AccountService
from core.i18n import t
from core.settings import Settings
from db.models import LoginCode
from gateway.telegram import TelegramGateway
from tests.bot.conftest import RecordingSession, TgUser


@pytest.fixture
async def dead_redis(free_port: int) -> AsyncIterator[Redis]:
    # Nothing listens on this loopback port: every command fails to connect, as when Redis is down.
    client = Redis.from_url(f"redis://127.0.0.1:{free_port}/0")
    yield client
    await client.aclose()


@pytest.mark.parametrize("language_code", ["en", "ru"])
async def test_web_auth_with_redis_down_says_try_again(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    dead_redis: Redis,
    gateway: TelegramGateway,
    accounts: AccountService,
    logins: PendingLogins,
    bot: Bot,
    recording: RecordingSession,
    language_code: str,
) -> None:
    dp = build_dispatcher(
        settings=settings,
        sessionmaker=sessionmaker,
        redis=dead_redis,
        gateway=gateway,
        accounts=accounts,
        logins=logins,
    )
    user = TgUser(dp, bot, recording, 2301, username="redis_less", language_code=language_code)

    calls = await user.send("/web_auth")

    texts = [c.text for c in calls if isinstance(c, SendMessage)]
    assert texts == [t(language_code, "bot.unavailable")]
    async with sessionmaker() as session:  # no code was issued without its limit checked
        assert await session.scalar(select(func.count()).select_from(LoginCode)) == 0


async def test_a_bot_api_that_drops_the_connection_is_one_warning_line(
    bot: Bot, recording: RecordingSession
) -> None:
    """A dropped connection to the Bot API (aiohttp's "Server disconnected") is no fault of the
    handler: one warning line, no traceback, and no attempt to tell the user over it."""
    from datetime import UTC, datetime

    from aiogram.exceptions import TelegramNetworkError
    from aiogram.methods import AnswerCallbackQuery
    from aiogram.types import CallbackQuery, Chat, ErrorEvent, Message, Update, User

    from bot.handlers.errors import on_error
    from tests.logcapture import captured_logs, lines

    person = User(id=4242, is_bot=False, first_name="P")
    message = Message(
        message_id=1, date=datetime.now(UTC), chat=Chat(id=4242, type="private"), text="x"
    )
    update = Update(
        update_id=77,
        callback_query=CallbackQuery(
            id="q", from_user=person, chat_instance="c", message=message, data="x"
        ),
    )
    failure = TelegramNetworkError(
        method=AnswerCallbackQuery(callback_query_id="q"),
        message="HTTP Client says - ServerDisconnectedError: Server disconnected",
    )
    with captured_logs("bot") as buffer:
        await on_error(ErrorEvent(update=update, exception=failure), bot, "en", person)
    logged = lines(buffer)
    assert [(e["level"], e["event"]) for e in logged] == [
        ("warning", "update failed: Bot API unreachable")
    ]
    assert "exception" not in logged[0]
    assert recording.requests == []
