"""Typed application keys: what the API process shares between its views."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import AccountService
from core.admin import AdminService
from core.auth import AuthService
from core.campaign_service import CampaignService
from core.settings import Settings
from core.teams import TeamService
from db.leases import LeaseStore
from gateway.campaigns import Planner
from gateway.chats import ChatDirectory
from gateway.sources import SourceChecker
from gateway.telegram import TelegramGateway
from webui_api.linking import PanelLogins

SETTINGS = web.AppKey("settings", Settings)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
REDIS = web.AppKey("redis", Redis)
AUTH = web.AppKey("auth", AuthService)
ACCOUNTS = web.AppKey("accounts", AccountService)
GATEWAY = web.AppKey("gateway", TelegramGateway)
LEASES = web.AppKey("leases", LeaseStore)
CAMPAIGNS = web.AppKey("campaigns", CampaignService)
ADMIN = web.AppKey("admin", AdminService)
PLANNER = web.AppKey("planner", Planner)
CHATS = web.AppKey("chats", ChatDirectory)
SOURCE_CHECK = web.AppKey("source_check", SourceChecker)
TEAMS = web.AppKey("teams", TeamService)
LOGINS = web.AppKey("logins", PanelLogins)
