"""Notices from other processes (Redis stream) reach the user as bot messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiogram import Bot
from aiogram.methods import SendMessage
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.notices import DEFAULT_CONSUMER, cancel_and_wait, run_notices
from core.i18n import t
from core.logs import trace_scope
from db.kv import NOTIFY_GROUP, NOTIFY_STREAM, RedisNotifier, read_notifications
from tests.bot.conftest import RecordingSession, TgUser
from tests.logcapture import captured_logs, lines

NOTICE_HEADS = tuple(t(lang, "web_auth.notice").split("\n")[0] for lang in ("ru", "en"))
PAYLOAD = {"at": "2026-11-23T10:15:00+03:00", "ip": "203.0.113.7", "user_agent": "Firefox/140"}


@asynccontextmanager
async def notices_running(
    bot: Bot, redis: Redis, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    task = asyncio.create_task(run_notices(bot, redis, sessionmaker, block_ms=100))
    try:
        yield
    finally:
        await cancel_and_wait(task)


async def wait_sent(recording: RecordingSession, chat_id: int, count: int = 1) -> list[SendMessage]:
    """The notices sent to `chat_id`: messages that are not replies to the user's updates."""
    async with asyncio.timeout(10):
        while True:
            sent = [
                m
                for m in recording.sent()
                if m.chat_id == chat_id and m.text.startswith(NOTICE_HEADS)
            ]
            if len(sent) >= count:
                return sent
            await asyncio.sleep(0.02)


async def pending(redis: Redis) -> int:
    info = await redis.xpending(NOTIFY_STREAM, NOTIFY_GROUP)
    return int(info["pending"])


async def test_login_notice_in_users_language_and_acked(
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ru_user = make_user(3001, username="olga", language_code="ru")
    await ru_user.send("/start")
    en_user = make_user(3002, username="eve", language_code="en")
    await en_user.send("/start")
    notifier = RedisNotifier(redis)

    async with notices_running(bot, redis, sessionmaker):
        await notifier.notify(3001, "web_login", PAYLOAD)
        await notifier.notify(3002, "web_login", PAYLOAD)
        (to_olga,) = await wait_sent(recording, 3001)
        (to_eve,) = await wait_sent(recording, 3002)
        async with asyncio.timeout(5):
            while await pending(redis):
                await asyncio.sleep(0.02)

    params = {"at": "2026-11-23 07:15:00", "ip": "203.0.113.7", "user_agent": "Firefox/140"}
    assert to_olga.text == t("ru", "web_auth.notice", **params)
    assert to_eve.text == t("en", "web_auth.notice", **params)


async def test_failed_delivery_is_acked_and_the_next_one_goes_through(
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(3003, language_code="en").send("/start")
    recording.queue(
        SendMessage,
        403,
        match=lambda m: m.chat_id == 3003,
        ok=False,
        error_code=403,
        description="Forbidden: bot was blocked by the user",
    )
    notifier = RedisNotifier(redis)
    await notifier.notify(3003, "web_login", PAYLOAD)
    await notifier.notify(3003, "web_login", PAYLOAD)

    async with notices_running(bot, redis, sessionmaker):
        sent = await wait_sent(recording, 3003, count=2)
        async with asyncio.timeout(5):
            while await pending(redis):
                await asyncio.sleep(0.02)

    # The first attempt was refused (recorded, not delivered); the second one arrived.
    assert len(sent) == 2
    assert await redis.xlen(NOTIFY_STREAM) == 2


async def test_notice_read_but_not_acked_is_delivered_after_restart(
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(3004, language_code="ru").send("/start")
    await RedisNotifier(redis).notify(3004, "web_login", PAYLOAD)
    # A previous run read the entry and died before sending it.
    reader = read_notifications(redis, DEFAULT_CONSUMER, block_ms=100)
    _, telegram_id, _, _, _ = await anext(reader)
    await reader.aclose()
    assert telegram_id == 3004 and await pending(redis) == 1

    async with notices_running(bot, redis, sessionmaker):
        (notice,) = await wait_sent(recording, 3004)
        async with asyncio.timeout(5):
            while await pending(redis):
                await asyncio.sleep(0.02)

    params = {"at": "2026-11-23 07:15:00", "ip": "203.0.113.7", "user_agent": "Firefox/140"}
    assert notice.text == t("ru", "web_auth.notice", **params)


def test_idle_stream_reads_end_before_the_socket_timeout() -> None:
    """A blocking read longer than redis-py's socket timeout looks like a dead connection."""
    import inspect

    socket_timeout_s = inspect.signature(Redis.__init__).parameters["socket_timeout"].default
    for func in (run_notices, read_notifications):
        block_ms = inspect.signature(func).parameters["block_ms"].default
        assert block_ms / 1000 <= socket_timeout_s / 2, func.__name__


async def test_a_notice_carries_the_senders_trace_into_the_bots_log(
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(3005, username="tracy").send("/start")
    with trace_scope("worker-task-0042"):  # as a worker does while it works a task
        await RedisNotifier(redis).notify(3005, "web_login", PAYLOAD)
    await RedisNotifier(redis).notify(3005, "web_login", PAYLOAD)  # sent outside any trace
    with captured_logs("bot") as buffer:
        async with notices_running(bot, redis, sessionmaker):
            await wait_sent(recording, 3005, count=2)
            async with asyncio.timeout(5):
                while await pending(redis):
                    await asyncio.sleep(0.02)
    delivered = [line["trace_id"] for line in lines(buffer) if line["event"] == "notice delivered"]
    assert len(delivered) == 2
    assert delivered[0] == "worker-task-0042"
    assert delivered[1] != "worker-task-0042" and len(delivered[1]) == 16  # a fresh one


async def test_telegrams_verdicts_reach_the_owner_with_what_to_do(
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """The notices the invite engine sends when Telegram stops an account, takes its rights in
    a chat, or a chat is full — each in the owner's language, saying what to do."""
    await make_user(3011, language_code="ru").send("/start")
    notifier = RedisNotifier(redis)
    await notifier.notify(
        3011,
        "account_status",
        {"account": "@acc", "status": "restricted", "reason": "USER_BANNED_IN_CHANNEL"},
    )
    await notifier.notify(
        3011,
        "account_lost_rights",
        {"account": "@acc", "chat": "Target", "error": "CHAT_ADMIN_REQUIRED"},
    )
    await notifier.notify(3011, "campaign_paused", {"campaign": "Grow", "reason": "chat_full"})
    expected = [
        t(
            "ru",
            "accounts.status_notice",
            account="@acc",
            status=t("ru", "accounts.status.restricted"),
        ),
        t(
            "ru",
            "accounts.lost_rights_notice",
            account="@acc",
            chat="Target",
            error="CHAT_ADMIN_REQUIRED",
        ),
        t(
            "ru",
            "campaigns.paused_notice",
            campaign="Grow",
            reason=t("ru", "campaign.paused.chat_full"),
        ),
    ]
    async with notices_running(bot, redis, sessionmaker):
        async with asyncio.timeout(10):
            while (
                len([m for m in recording.sent() if m.chat_id == 3011 and m.text in expected]) < 3
            ):
                await asyncio.sleep(0.02)
    texts = [m.text for m in recording.sent() if m.chat_id == 3011 and m.text in expected]
    assert texts == expected
    assert "@SpamBot" in texts[0]  # what to do
