"""The bot side of the permission matrix (`tests/permissions.py`): every command from every role.

The real Dispatcher (`bot.app.build_dispatcher`, a recording Bot session as in
tests/bot/conftest.py) over one world per module: the owner's workspace with linked accounts
(an in-process sandbox), an audience, a collection task and a campaign, its manager (whose
current workspace it is), a user of another workspace and an admin (ADMIN_TELEGRAM_IDS), and
for "anonymous" a new Telegram user in every cell. A cell's answer is classified from what
the bot sent: a refusal ("unknown command", "owner only", ...) or the command's own answer,
which for "allowed" must show the owner's workspace and for the others must not.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.methods import EditMessageText, SendMessage, SendPhoto
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import build_dispatcher
from bot.commands import COMMANDS
from bot.linking import PendingLogins
from core.accounts import build_account_service
from core.dto import WorkspaceRole
from core.i18n import t
from core.settings import SANDBOX_BOT_TOKEN, Settings
from db.dal import open_dal
from db.engine import create_engine, create_sessionmaker
from db.kv import RedisNotifier
from db.models import Base, Campaign, ParseTask
from tests.bot.conftest import RecordingSession, TgUser
from tests.invites.conftest import OWNER_TG, build_setup, make_audience
from tests.permissions import (
    ADMIN,
    ALLOWED,
    ANON,
    BOT,
    MANAGER,
    NEW_USER,
    NOTHING_TO_CANCEL,
    OTHER,
    OWN_WS,
    OWNER,
    OWNER_ONLY,
    ROLES,
    UNKNOWN,
    BotRow,
)

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")
ADMIN_TG, MANAGER_TG, OTHER_TG = 990_101, 990_102, 990_103
OWNER_WS_NAME = "@boss"
# Things only the owner's workspace has: seeing one means the command worked in it.
MARKERS = ("acc901", "ZetaLeads", "ZetaCampaign", "zeta_source", "manager_b", "«@boss»")
_anon_ids = itertools.count(995_000)


def test_every_command_has_a_row() -> None:
    names = [row.name for row in BOT]
    assert set(COMMANDS) | {
        "team_add",
        "team_remove",
        "optouts_add",
        "optouts_remove",
        "admin_limits",
        "cancel",
    } | {"erase"} == set(names)
    assert len(names) == len(set(names))


@dataclass
class BotWorld:
    dp: Dispatcher
    bot: Bot
    recording: RecordingSession
    sessionmaker: async_sessionmaker[AsyncSession]
    ws: int
    users: dict[str, TgUser]

    def user(self, role: str) -> TgUser:
        if role == ANON:
            tg_id = next(_anon_ids)
            return TgUser(
                self.dp, self.bot, self.recording, tg_id, username=f"anon{tg_id}", first_name="Anon"
            )
        return self.users[role]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot_world(settings: Settings, migrated: str) -> AsyncIterator[BotWorld]:
    engine = create_engine(migrated, pool_size=5)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    sessionmaker = create_sessionmaker(engine)
    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()
    configured = settings.model_copy(update={"admin_telegram_ids": [ADMIN_TG]})
    setup = await build_setup(sessionmaker, configured)  # the owner (@boss) with accounts 901-903
    accounts = build_account_service(configured, RedisNotifier(redis))
    logins = PendingLogins(setup.gateway, accounts, sessionmaker)
    try:
        recording = RecordingSession()
        bot = Bot(
            SANDBOX_BOT_TOKEN, session=recording, default=DefaultBotProperties(parse_mode=None)
        )
        dp = build_dispatcher(
            settings=configured,
            sessionmaker=sessionmaker,
            redis=redis,
            gateway=setup.gateway,
            accounts=accounts,
            logins=logins,
        )
        users = {
            OWNER: TgUser(dp, bot, recording, OWNER_TG, username="boss", first_name="Boss"),
            MANAGER: TgUser(
                dp, bot, recording, MANAGER_TG, username="manager_b", first_name="Manny"
            ),
            OTHER: TgUser(
                dp, bot, recording, OTHER_TG, username="stranger_b", first_name="Stranger"
            ),
            ADMIN: TgUser(dp, bot, recording, ADMIN_TG, username="root_admin", first_name="Root"),
            "newcomer": TgUser(dp, bot, recording, 990_104, username="newcomer", first_name="New"),
        }
        for user in users.values():
            await user.send("/start")
        async with open_dal(sessionmaker) as dal:
            manager = await dal.get_user_by_telegram_id(MANAGER_TG)
            admin = await dal.get_user_by_telegram_id(ADMIN_TG)
            assert manager is not None and admin is not None and admin.is_admin
            assert await dal.add_member(setup.ws, manager.id, WorkspaceRole.MANAGER)
            await dal.set_current_workspace(manager.id, setup.ws)
            await dal.commit()
        audience = await make_audience(
            sessionmaker, setup.ws, "ZetaLeads", [(30_001, None, None, None)]
        )
        async with sessionmaker() as session, session.begin():
            session.add(
                ParseTask(
                    workspace_id=setup.ws,
                    kind="members",
                    source="zeta_source",
                    audience_id=audience,
                    status="done",
                )
            )
            session.add(
                Campaign(
                    workspace_id=setup.ws,
                    name="ZetaCampaign",
                    audience_id=audience,
                    target_ref="target_group",
                    status="draft",
                )
            )
        yield BotWorld(
            dp,
            bot,
            recording,
            sessionmaker,
            setup.ws,
            {k: v for k, v in users.items() if k in ROLES},
        )
    finally:
        await logins.close()
        await redis.aclose()
        await engine.dispose()


def _visible(calls: list[Any]) -> list[str]:
    """Texts, captions and button labels of what the bot sent or edited."""
    out: list[str] = []
    for call in calls:
        if isinstance(call, (SendMessage, EditMessageText)):
            out.append(call.text)
        elif isinstance(call, SendPhoto):
            out.append(call.caption or "")
        else:
            continue
        markup = getattr(call, "reply_markup", None)
        for row in getattr(markup, "inline_keyboard", None) or []:
            out.extend(button.text for button in row)
    return out


REFUSALS = (
    "unknown_command",
    "not_available_yet",
    "error.forbidden",
    "error.not_found",
    "private_only",
    "blocked",
)


async def _tasks_in(w: BotWorld, ws: int) -> int:
    async with w.sessionmaker() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(ParseTask).where(ParseTask.workspace_id == ws)
            )
        )


async def _cell(w: BotWorld, row: BotRow, role: str) -> None:
    user = w.user(role)
    lang = "en"
    tasks_before = await _tasks_in(w, w.ws)
    calls = await user.send(row.command)
    try:
        visible = _visible(calls)
        assert visible, f"{row.command} as {role}: the bot answered nothing ({calls})"
        said = "\n".join(visible)
        expected = row.answer(role)
        if expected == UNKNOWN:
            assert visible == [t(lang, "unknown_command")], said
            return
        if expected == OWNER_ONLY:
            refusal = "optouts.not_owner" if row.name.startswith("optouts_") else "team.not_owner"
            refusal = "erase.not_owner" if row.name == "erase" else refusal
            assert visible == [t(lang, refusal, workspace=OWNER_WS_NAME)], said
            return
        if expected == NOTHING_TO_CANCEL:
            assert visible == [t(lang, "linking.nothing_to_cancel")], said
            return
        assert expected in (ALLOWED, OWN_WS, NEW_USER), expected
        for key in REFUSALS:
            assert t(lang, key) not in visible, (
                f"{row.command} as {role}: refused with {key}: {said}"
            )
        assert not said.startswith(t(lang, "team.not_owner", workspace="")[:12]), said
        in_owner_ws = expected == ALLOWED and role in (MANAGER, OWNER)
        shown = [m for m in MARKERS if m in said and not (m == "manager_b" and role == MANAGER)]
        if not in_owner_ws:
            assert shown == [], f"{row.command} as {role} shows the owner's workspace: {said}"
        elif row.name in (
            "accounts",
            "audiences",
            "tasks",
            "campaigns",
            "team",
            "team_remove",
            "campaign_new",
        ):
            assert shown, f"{row.command} as {role} does not show the owner's workspace: {said}"
        if row.name == "parse":
            assert await _tasks_in(w, w.ws) == tasks_before + (1 if in_owner_ws else 0), said
        if row.name == "search":
            assert (t(lang, "search.no_accounts") in visible) is not in_owner_ws, said
        if row.name == "start":
            assert said.startswith(
                t(lang, "start.new" if role == ANON else "start.again", name="")[:5]
            ), said
    finally:
        if row.name in ("link", "link_phone", "campaign_new"):
            await user.send("/cancel")  # leave no login or wizard waiting for the next cell


BOT_CELLS = [pytest.param(row, role, id=f"{row.command}-{role}") for row in BOT for role in ROLES]


@MODULE_LOOP
@pytest.mark.parametrize(("row", "role"), BOT_CELLS)
async def test_bot_cell(bot_world: BotWorld, row: BotRow, role: str) -> None:
    await _cell(bot_world, row, role)
