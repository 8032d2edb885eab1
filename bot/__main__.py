"""The bot process: `python -m bot`. The one place where its parts are created and wired.

Long polling (the default) or, with WEBHOOK_URL, a webhook server, until SIGTERM or SIGINT;
then everything is closed in reverse order and the process exits with status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import build_dispatcher, create_bot
from bot.commands import set_bot_commands
from bot.linking import PendingLogins
from bot.notices import NOTICE_BLOCK_MS, cancel_and_wait, run_notices
from core.accounts import build_account_service
from core.logs import get_logger, setup_logging
from core.runtime import freeze_startup_heap
from core.settings import Settings, load_settings
from db.engine import create_engine, create_sessionmaker
from db.kv import RedisNotifier, connect_redis
from db.sender_cache import SenderCache
from gateway.telegram import TelegramGateway, client_factory

BOT_API_WAIT_MAX_S = 10.0
WEBHOOK_SHUTDOWN_S = 5.0

T = TypeVar("T")


async def _until_answered(
    call: Callable[[], Awaitable[T]], stopping: asyncio.Event, settings: Settings
) -> T | None:
    """Call the Bot API until it answers (the sandbox or the network may not be up yet).

    None when a stop signal came first; a refused token ends the process.
    """
    log = get_logger("bot")
    delay = 0.5
    while not stopping.is_set():
        try:
            return await call()
        except TelegramUnauthorizedError:
            log.error(
                "the Bot API refused the bot token (BOT_TOKEN)", url=settings.effective_bot_api_url
            )
            raise SystemExit(2) from None
        except TelegramRetryAfter as exc:
            wait = float(exc.retry_after)
        except TelegramNetworkError as exc:
            log.warning(
                "Bot API not reachable yet", url=settings.effective_bot_api_url, error=str(exc)
            )
            wait, delay = delay, min(delay * 2, BOT_API_WAIT_MAX_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), wait)
    return None


async def _leave_webhook(bot: Bot, stopping: asyncio.Event, settings: Settings) -> bool:
    """Remove a webhook left by an earlier deployment, so that long polling receives updates.

    core.telegram.org/bots/api#getupdates: getUpdates "will not work if an outgoing webhook
    is set up" (409 "Conflict: can't use getUpdates method while webhook is active",
    tdlib/telegram-bot-api Client.cpp), and aiogram 3's `start_polling` does not remove it
    (aiogram 2's executor did, `reset_webhook=True`); deleteWebhook is the way back
    (docs.aiogram.dev, api/methods/delete_webhook). Pending updates are kept: people wrote
    them. False when a stop signal came first.
    """
    info = await _until_answered(bot.get_webhook_info, stopping, settings)
    if info is None:
        return False
    if not info.url:
        return True
    # Only the host: people put secrets (even the bot token) into webhook paths.
    get_logger("bot").warning(
        "a webhook was set for this bot; removing it to use long polling",
        webhook_host=urlsplit(info.url).hostname,
        pending_updates=info.pending_update_count,
    )
    return (
        await _until_answered(
            lambda: bot.delete_webhook(drop_pending_updates=False), stopping, settings
        )
        is not None
    )


async def _serve_webhook(
    bot: Bot, dp: Dispatcher, stopping: asyncio.Event, settings: Settings
) -> None:
    """Receive updates on WEBHOOK_HOST:WEBHOOK_PORT until a stop signal, then stop serving.

    aiogram's `SimpleRequestHandler` answers 401 to a request whose
    X-Telegram-Bot-Api-Secret-Token header is missing or wrong and does not process it;
    updates are handled after the answer (`handle_in_background`), as polling handles them.
    """
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    log = get_logger("bot")
    secret = settings.webhook_secret.get_secret_value()
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
        app, path=settings.webhook_path
    )
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=WEBHOOK_SHUTDOWN_S)
    await runner.setup()
    try:
        # Listening first: Telegram starts delivering as soon as the webhook is set.
        await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
        try:
            done = await _until_answered(
                lambda: bot.set_webhook(
                    settings.webhook_url or "",
                    secret_token=secret,
                    allowed_updates=dp.resolve_used_update_types(),
                    drop_pending_updates=False,
                ),
                stopping,
                settings,
            )
        except TelegramBadRequest as exc:
            # e.g. "bad webhook: Failed to resolve host": nothing to retry until the URL or
            # the DNS is fixed.
            log.error("Telegram refused the webhook (WEBHOOK_URL)", error=exc.message)
            raise SystemExit(2) from None
        if done is None:
            return
        log.info(
            "webhook mode: Telegram delivers updates to the webhook URL",
            webhook_host=urlsplit(settings.webhook_url).hostname,
            listen=f"{settings.webhook_host}:{settings.webhook_port}",
        )
        # The webhook stays set on shutdown: Telegram keeps the updates that arrive while
        # the bot restarts and delivers them once it answers again.
        await stopping.wait()
    finally:
        await runner.cleanup()


def _stop_on_signals(stopping: asyncio.Event) -> None:
    # Covers start-up and webhook mode; start_polling installs its own handlers.
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)


def _log_connection(settings: Settings) -> None:
    log = get_logger("bot")
    if settings.sandbox_active:
        log.info(
            "sandbox mode: the bot talks to the simulated Bot API",
            url=settings.effective_bot_api_url,
        )
        if settings.telegram_proxy is not None:
            log.info("TELEGRAM_PROXY is not used: Telegram is simulated")
        return
    proxy = settings.proxy
    if proxy is None:
        return
    if proxy.kind == "mtproxy":
        log.warning(
            "TELEGRAM_PROXY is an MTProxy, which carries only account connections; "
            "the bot reaches the Bot API directly",
            proxy=proxy.address,
        )
    else:
        log.info("the bot reaches the Bot API through TELEGRAM_PROXY", proxy=proxy.address)


async def main() -> None:
    settings = load_settings()
    secrets = [settings.effective_bot_token]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    if settings.proxy is not None:
        secrets.extend(settings.proxy.credentials)
    setup_logging("bot", level=settings.log_level, fmt=settings.log_format, secrets=secrets)
    log = get_logger("bot")
    _log_connection(settings)

    stopping = asyncio.Event()
    _stop_on_signals(stopping)
    engine = create_engine(settings.database_url)
    redis = connect_redis(settings.redis_url, blocking_s=NOTICE_BLOCK_MS / 1000)
    bot = create_bot(settings)
    notices: asyncio.Task[None] | None = None
    logins: PendingLogins | None = None
    senders = SenderCache(engine)
    try:
        await senders.start()
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
            senders=senders,
        )
        me = await _until_answered(bot.me, stopping, settings)
        if me is None:
            return
        log.info("bot identity", username=me.username, bot_id=me.id)
        try:
            await set_bot_commands(bot)
        except TelegramAPIError as exc:
            log.warning("command menu not set", error=str(exc))
        notices = asyncio.create_task(run_notices(bot, redis, sessionmaker), name="notices")
        freeze_startup_heap()
        if settings.webhook_url is not None:
            await _serve_webhook(bot, dp, stopping, settings)
        elif await _leave_webhook(bot, stopping, settings) and not stopping.is_set():
            await dp.start_polling(bot, handle_signals=True, close_bot_session=False)
    finally:
        if notices is not None:
            await cancel_and_wait(notices)
        if logins is not None:
            # Half-done logins are logged out while Telegram and Redis are still reachable.
            await logins.close()
        await senders.close()
        await bot.session.close()
        await redis.aclose()
        await engine.dispose()
        log.info("bot stopped")


if __name__ == "__main__":
    # A Ctrl-C that lands outside the signal handlers (e.g. at import) still exits quietly.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
