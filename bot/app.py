"""Building blocks of the bot process: the configured Bot and the wired Dispatcher.

`bot/__main__.py` composes them; tests and the end-to-end run build the same objects.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.fsm_storage import SharedRedisStorage
from bot.handlers import get_routers
from bot.linking import PendingLogins
from bot.middlewares import DbSessionMiddleware, UpdateLogMiddleware, UserMiddleware
from core.accounts import AccountService
from core.admin import build_admin_service
from core.audiences import AudienceService
from core.auth import build_auth_service
from core.campaign_service import build_campaign_service
from core.settings import Settings
from core.teams import TeamService
from db.kv import RedisNotifier, RedisThrottle
from db.leases import leases_for
from db.metrics import bot_update_histogram
from db.sender_cache import SenderCache
from gateway.campaigns import Planner
from gateway.chats import ChatDirectory
from gateway.proxy import bot_api_proxy
from gateway.sources import SourceChecker
from gateway.telegram import TelegramGateway
from workers.heartbeat import RedisWorkerRegistry


def create_bot(settings: Settings) -> Bot:
    """The Bot, pointed at the sandbox's Bot API when Telegram is simulated, and through
    TELEGRAM_PROXY when one is set (an MTProxy cannot carry the Bot API: then direct)."""
    api_url = settings.effective_bot_api_url
    api = TelegramAPIServer.from_base(api_url) if api_url else PRODUCTION
    session = AiohttpSession(api=api, proxy=bot_api_proxy(settings.proxy))
    return Bot(
        settings.effective_bot_token,
        session=session,
        default=DefaultBotProperties(parse_mode=None),
    )


def build_dispatcher(
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    gateway: TelegramGateway,
    accounts: AccountService,
    logins: PendingLogins,
    senders: SenderCache | None = None,
) -> Dispatcher:
    """The Dispatcher with its middlewares, routers and workflow data.

    The caller owns what it passes in (the gateway, the open logins, the started sender
    cache) and closes it. Without `senders` every update reads its sender's row.
    """
    dp = Dispatcher(storage=SharedRedisStorage(redis))
    # Outer middlewares run in the order registered: trace first, then session, then user.
    dp.update.outer_middleware(UpdateLogMiddleware(bot_update_histogram(redis)))
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dp.update.outer_middleware(UserMiddleware(settings.admin_telegram_ids, senders))
    dp["senders"] = senders
    dp["settings"] = settings
    dp["auth"] = build_auth_service(settings, RedisThrottle(redis), RedisNotifier(redis))
    dp["admin"] = build_admin_service(
        settings, sessions=dp["auth"], workers=RedisWorkerRegistry(redis)
    )
    dp["sessionmaker"] = sessionmaker
    dp["gateway"] = gateway
    dp["accounts"] = accounts
    dp["logins"] = logins
    dp["audience_service"] = AudienceService()
    # Unlinking logs an account out, which only the holder of its lease may do.
    dp["leases"] = leases_for(settings, sessionmaker, "bot")
    dp["campaigns"] = build_campaign_service(settings, RedisNotifier(redis))
    dp["teams"] = TeamService(RedisNotifier(redis))
    dp["planner"] = Planner(
        campaigns=dp["campaigns"],
        accounts=accounts,
        gateway=gateway,
        leases=dp["leases"],
        sessionmaker=sessionmaker,
    )
    dp["chats"] = ChatDirectory(
        accounts=accounts,
        gateway=gateway,
        leases=dp["leases"],
        sessionmaker=sessionmaker,
        cache=redis,
    )
    dp["source_check"] = SourceChecker(
        accounts=accounts, gateway=gateway, leases=dp["leases"], sessionmaker=sessionmaker
    )
    dp.include_routers(*get_routers())
    return dp
