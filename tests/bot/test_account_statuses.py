"""Restricted and frozen accounts in the bot: the owner's /accounts list and the admins' health view,
in both languages, through the real Dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from aiogram.methods import EditMessageText, SendMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import AccountStatus
from core.i18n import t
from db.models import User
from tests.admin_world import add_account, personal_workspace_id
from tests.bot.conftest import TgUser

ROOT = 9_200_001  # named in ADMIN_TELEGRAM_IDS
BOT_ADMINS = [ROOT]
LIMIT_END = datetime(2031, 6, 20, 11, 49, tzinfo=UTC)


async def _workspace(sm: async_sessionmaker[AsyncSession], telegram_id: int) -> int:
    async with sm() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert user is not None
    return await personal_workspace_id(sm, user.id)


async def _seed(sm: async_sessionmaker[AsyncSession], telegram_id: int) -> None:
    ws = await _workspace(sm, telegram_id)
    await add_account(
        sm, ws, 91, AccountStatus.RESTRICTED, reason="USER_BANNED_IN_CHANNEL", until=LIMIT_END
    )
    await add_account(sm, ws, 92, AccountStatus.FROZEN, reason="frozen_until:2031-03-01T12:30Z")
    await add_account(sm, ws, 93, AccountStatus.FROZEN, reason="FROZEN_METHOD_INVALID")


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_accounts_list_says_until_when_and_why(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession], lang: str
) -> None:
    owner = make_user(9_200_010 + len(lang), username="owner_user", language_code=lang)
    await owner.send("/start")
    await _seed(sessionmaker, owner.telegram_id)

    (listing,) = [c for c in await owner.send("/accounts") if isinstance(c, SendMessage)]
    text = listing.text
    restricted = t(lang, "accounts.status.restricted")
    assert (
        t(
            lang,
            "accounts.item",
            account="@acc91",
            status=restricted,
            phone=t(lang, "accounts.no_phone"),
            used=0,
            limit=30,
        )
        in text
    )
    assert (
        t(lang, "accounts.until", until="2031-06-20 11:49")
        + " · "
        + t(lang, "accounts.reason", reason="USER_BANNED_IN_CHANNEL")
    ) in text
    # a frozen account: the day Telegram deletes it unless an appeal is accepted
    assert text.count(t(lang, "accounts.status.frozen")) == 2
    assert t(lang, "accounts.frozen_deadline", until="2031-03-01 12:30") in text
    assert "frozen_until:" not in text
    assert t(lang, "accounts.reason", reason="FROZEN_METHOD_INVALID") in text


async def test_admin_health_counts_and_lists_them(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    root = make_user(ROOT, username="root_admin")
    await root.send("/start")
    await _seed(sessionmaker, ROOT)
    menu = next(c for c in await root.send("/admin") if isinstance(c, SendMessage))
    health_button = next(
        b.callback_data
        for row in menu.reply_markup.inline_keyboard
        for b in row
        if b.text == t("en", "admin.btn.health")
    )
    (health,) = [c for c in await root.press(menu, health_button) if isinstance(c, EditMessageText)]
    counts = (
        "3 ("
        + ", ".join(
            [f"{t('en', 'admin.status.frozen')} 2", f"{t('en', 'admin.status.restricted')} 1"]
        )
        + ")"
    )
    assert t("en", "admin.health", counts=counts) in health.text
    assert "@acc91" in health.text and "reason: USER_BANNED_IN_CHANNEL" in health.text
    assert "until 2031-06-20 11:49 UTC" in health.text
    assert "reason: frozen_until:2031-03-01T12:30Z" in health.text
