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
        settings=settings, sessionmaker=sessionmaker, redis=dead_redis,
        gateway=gateway, accounts=accounts, logins=logins,
    )
    user = TgUser(dp, bot, recording, 2301, username="redis_less", language_code=language_code)

    calls = await user.send("/web_auth")

    texts = [c.text for c in calls if isinstance(c, SendMessage)]
    assert texts == [t(language_code, "bot.unavailable")]
    async with sessionmaker() as session:  # no code was issued without its limit checked
        assert await session.scalar(select(func.count()).select_from(LoginCode)) == 0
