"""`init_app(settings)`: the API application, its resources and its routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web

from core.accounts import build_account_service
from core.admin import build_admin_service
from core.auth import build_auth_service
from core.campaign_service import build_campaign_service
from core.settings import Settings
from core.teams import TeamService
from db.engine import create_engine, create_sessionmaker
from db.kv import RedisNotifier, RedisThrottle, connect_redis
from db.leases import leases_for
from gateway.campaigns import Planner
from gateway.chats import ChatDirectory
from gateway.sources import SourceChecker
from gateway.telegram import TelegramGateway, client_factory
from webui_api.http import (
    HANDLER_ARGS,
    cors_middleware,
    security_headers_middleware,
    trace_middleware,
)
from webui_api.keys import (
    ACCOUNTS,
    ADMIN,
    AUTH,
    CAMPAIGNS,
    CHATS,
    GATEWAY,
    LEASES,
    LOGINS,
    PLANNER,
    REDIS,
    SESSIONMAKER,
    SETTINGS,
    SOURCE_CHECK,
    TEAMS,
)
from webui_api.linking import PanelLogins
from webui_api.routing import ApiRoutes, openapi_document
from webui_api.views import (
    accounts,
    admin,
    audiences,
    audit,
    auth,
    campaign_results,
    campaign_stream,
    campaigns,
    chats,
    history,
    limits,
    linking,
    me,
    optouts,
    overview,
    panel,
    retention,
    search,
    system,
    target_join,
    team,
)
from workers.heartbeat import RedisWorkerRegistry

# CSV imports are the largest bodies; JSON bodies have their own, smaller cap (http.py).
MAX_BODY_BYTES = 6 * 1024 * 1024


def route_tables() -> list[ApiRoutes]:
    return [
        auth.routes,
        me.routes,
        accounts.routes,
        audiences.routes,
        campaigns.routes,
        search.routes,
        system.routes,
        campaign_stream.routes,
        limits.routes,
        team.routes,
        panel.routes,
        admin.routes,
        audit.routes,
        retention.routes,
        optouts.routes,
        chats.routes,
        target_join.routes,
        linking.routes,
        overview.routes,
        history.routes,
        campaign_results.routes,
    ]


def _version() -> str:
    try:
        return version("tg-inviter")
    except PackageNotFoundError:
        return "0"


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url)
    redis = connect_redis(settings.redis_url)
    app[SESSIONMAKER] = create_sessionmaker(engine)
    app[REDIS] = redis
    app[AUTH] = build_auth_service(settings, RedisThrottle(redis), RedisNotifier(redis))
    app[ACCOUNTS] = build_account_service(settings, RedisNotifier(redis))
    app[GATEWAY] = TelegramGateway(client_factory(settings))
    app[LEASES] = leases_for(settings, app[SESSIONMAKER], "api")
    app[CAMPAIGNS] = build_campaign_service(settings, RedisNotifier(redis))
    app[ADMIN] = build_admin_service(
        settings, sessions=app[AUTH], workers=RedisWorkerRegistry(redis)
    )
    app[TEAMS] = TeamService(RedisNotifier(redis))
    app[PLANNER] = Planner(
        campaigns=app[CAMPAIGNS],
        accounts=app[ACCOUNTS],
        gateway=app[GATEWAY],
        leases=app[LEASES],
        sessionmaker=app[SESSIONMAKER],
    )
    app[CHATS] = ChatDirectory(
        accounts=app[ACCOUNTS],
        gateway=app[GATEWAY],
        leases=app[LEASES],
        sessionmaker=app[SESSIONMAKER],
        cache=redis,
    )
    app[SOURCE_CHECK] = SourceChecker(
        accounts=app[ACCOUNTS],
        gateway=app[GATEWAY],
        leases=app[LEASES],
        sessionmaker=app[SESSIONMAKER],
    )
    # Open logins live in this process (webui_api/linking.py); shutdown ends them.
    app[LOGINS] = PanelLogins(app[GATEWAY], app[ACCOUNTS], app[SESSIONMAKER])
    try:
        yield
    finally:
        await app[LOGINS].close()
        await redis.aclose()
        await engine.dispose()


def init_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[cors_middleware, trace_middleware, security_headers_middleware],
        client_max_size=MAX_BODY_BYTES,
        # Request line and header sizes, and the logger for requests aiohttp cannot parse.
        handler_args=HANDLER_ARGS,
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_resources)
    campaign_stream.setup(app)
    panel.setup(app)
    tables = route_tables()
    for table in tables:
        table.add_to(app)
    app[system.OPENAPI] = openapi_document(tables, title="tg-inviter API", version=_version())
    return app
