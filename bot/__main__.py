"""The bot process: `python -m bot`. The one place where its parts are created and wired.

Long polling until SIGTERM or SIGINT, then everything is closed in reverse order and the
process exits with status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError
from redis.asyncio import Redis

from bot.app import build_dispatcher, create_bot
from bot.commands import set_bot_commands
from bot.linking import PendingLogins
from bot.notices import cancel_and_wait, run_notices
from core.accounts import build_account_service
from core.logs import get_logger, setup_logging
from core.settings import Settings, load_settings
from db.engine import create_engine, create_sessionmaker
from db.kv import RedisNotifier
from gateway.telegram import TelegramGateway, client_factory

BOT_API_WAIT_MAX_S = 10.0


async def _wait_for_bot_api(bot: Bot, stopping: asyncio.Event, settings: Settings) -> bool:
    """Wait until the Bot API answers getMe (the sandbox may still be starting).

    False when a stop signal came first.
    """
    log = get_logger("bot")
    delay = 0.5
    while not stopping.is_set():
        try:
            me = await bot.me()
        except TelegramUnauthorizedError:
            log.error("the Bot API refused the bot token (BOT_TOKEN)", url=settings.effective_bot_api_url)
            raise SystemExit(2) from None
        except TelegramNetworkError as exc:
            log.warning("Bot API not reachable yet", url=settings.effective_bot_api_url, error=str(exc))
        else:
            log.info("bot identity", username=me.username, bot_id=me.id)
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
        delay = min(delay * 2, BOT_API_WAIT_MAX_S)
    return False


def _stop_on_signals(stopping: asyncio.Event) -> None:
    # Covers start-up; start_polling installs its own handlers for the same signals.
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)


async def main() -> None:
    settings = load_settings()
    setup_logging(
        "bot",
        level=settings.log_level,
        fmt=settings.log_format,
        secrets=[settings.effective_bot_token],
    )
    log = get_logger("bot")
    if settings.sandbox_active:
        log.info("sandbox mode: the bot talks to the simulated Bot API", url=settings.effective_bot_api_url)

    stopping = asyncio.Event()
    _stop_on_signals(stopping)
    engine = create_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    bot = create_bot(settings)
    notices: asyncio.Task[None] | None = None
    logins: PendingLogins | None = None
    try:
        sessionmaker = create_sessionmaker(engine)
        gateway = TelegramGateway(client_factory(settings))
        accounts = build_account_service(settings, RedisNotifier(redis))
        logins = PendingLogins(gateway, accounts, sessionmaker)
        dp = build_dispatcher(
            settings=settings,
            sessionmaker=sessionmaker,
            redis=redis,
            gateway=gateway,
            accounts=accounts,
            logins=logins,
        )
        if not await _wait_for_bot_api(bot, stopping, settings):
            return
        try:
            await set_bot_commands(bot)
        except TelegramAPIError as exc:
            log.warning("command menu not set", error=str(exc))
        notices = asyncio.create_task(run_notices(bot, redis, sessionmaker), name="notices")
        if not stopping.is_set():
            await dp.start_polling(bot, handle_signals=True, close_bot_session=False)
    finally:
        if notices is not None:
            await cancel_and_wait(notices)
        if logins is not None:
            # Half-done logins are logged out while Telegram and Redis are still reachable.
            await logins.close()
        await bot.session.close()
        await redis.aclose()
        await engine.dispose()
        log.info("bot stopped")


if __name__ == "__main__":
    # A Ctrl-C that lands outside the signal handlers (e.g. at import) still exits quietly.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
