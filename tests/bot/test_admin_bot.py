"""/admin and /admin_limits through the real Dispatcher: admins only, every change stored and audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import AccountStatus
from core.i18n import t
from core.installation import LIMITS_KEY
from db.models import InstallationSetting, User
from tests.admin_world import add_account, audit_actions, personal_workspace_id
from tests.bot.conftest import TgUser, only_the_hint

ROOT = 9_100_001  # named in ADMIN_TELEGRAM_IDS
BOT_ADMINS = [ROOT]


def _only(calls: list[Any], cls: type) -> Any:
    found = [c for c in calls if isinstance(c, cls)]
    assert len(found) == 1, calls
    return found[0]


def _button(markup: InlineKeyboardMarkup | None, text: str) -> str:
    assert markup is not None
    for row in markup.inline_keyboard:
        for button in row:
            if button.text == text:
                assert button.callback_data is not None
                return button.callback_data
    raise AssertionError(f"no button {text!r} in {markup}")


async def _user(sm: async_sessionmaker[AsyncSession], telegram_id: int) -> User:
    async with sm() as session:
        found = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        assert found is not None
        return found


async def _menu(admin: TgUser) -> SendMessage:
    menu = _only(await admin.send("/admin"), SendMessage)
    assert menu.text == t("en", "admin.menu")
    return menu


async def test_non_admins_never_see_the_menu(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    root, bob = (
        make_user(ROOT, username="root_admin"),
        make_user(9_100_002, username="bob_user", language_code="ru"),
    )
    await root.send("/start")
    menu = await _menu(root)
    await bob.send("/start")

    assert await bob.reply_to("/admin") == t("ru", "unknown_command")
    assert await bob.reply_to("/admin_limits daily_per_account=1") == t("ru", "unknown_command")
    # A button of an admin's menu pressed by someone else: answered silently, nothing shown.
    calls = await bob.press(menu, _button(menu.reply_markup, t("en", "admin.btn.stats")))
    assert [type(c) for c in calls] == [AnswerCallbackQuery] and calls[0].text is None
    async with sessionmaker() as session:
        assert await session.get(InstallationSetting, LIMITS_KEY) is None
    assert await audit_actions(sessionmaker) == []


async def test_stats_and_accounts_health(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    root = make_user(ROOT, username="root_admin")
    await root.send("/start")
    await make_user(9_100_003, username="carol_user").send("/start")
    ws = await personal_workspace_id(sessionmaker, (await _user(sessionmaker, ROOT)).id)
    await add_account(sessionmaker, ws, 77, AccountStatus.PARKED, reason="PEER_FLOOD")
    menu = await _menu(root)

    stats = _only(
        await root.press(menu, _button(menu.reply_markup, t("en", "admin.btn.stats"))),
        EditMessageText,
    )
    assert "Users: 2 (admins: 1, blocked: 0)" in stats.text
    assert "Linked accounts: 1 (parked 1)" in stats.text

    health = _only(
        await root.press(menu, _button(menu.reply_markup, t("en", "admin.btn.health"))),
        EditMessageText,
    )
    assert "parked 1" in health.text
    assert "@acc77" in health.text and "reason: PEER_FLOOD" in health.text


async def test_user_search_then_block_grant_and_revoke(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    root = make_user(ROOT, username="root_admin")
    dave = make_user(9_100_004, username="dave_user")
    await root.send("/start")
    await dave.send("/start")
    menu = await _menu(root)

    ask = _only(
        await root.press(menu, _button(menu.reply_markup, t("en", "admin.btn.users"))),
        EditMessageText,
    )
    assert ask.text == t("en", "admin.users_ask")
    assert await root.reply_to("@nobody_here") == t("en", "admin.users_none", query="@nobody_here")
    card = _only(await root.send("@dave"), SendMessage)
    assert (
        "@dave_user" in card.text and "Role: user" in card.text and "Access: allowed" in card.text
    )

    blocked = _only(
        await root.press(card, _button(card.reply_markup, t("en", "admin.btn.block"))),
        EditMessageText,
    )
    assert blocked.text.startswith(t("en", "admin.done.block", name="@dave_user"))
    assert (await _user(sessionmaker, dave.telegram_id)).blocked
    assert await dave.reply_to("/help") == t("en", "blocked")
    unblocked = await root.press(
        blocked, _button(blocked.reply_markup, t("en", "admin.btn.unblock"))
    )
    card = _only(unblocked, EditMessageText)
    assert not (await _user(sessionmaker, dave.telegram_id)).blocked

    granted = _only(
        await root.press(card, _button(card.reply_markup, t("en", "admin.btn.grant"))),
        EditMessageText,
    )
    assert "Role: admin" in granted.text
    assert _only(await dave.send("/admin"), SendMessage).text == t("en", "admin.menu")
    revoked = _only(
        await root.press(granted, _button(granted.reply_markup, t("en", "admin.btn.revoke"))),
        EditMessageText,
    )
    assert "Role: user" in revoked.text
    assert await dave.reply_to("/admin") == t("en", "unknown_command")

    # Searching for oneself by id: the card's block button is refused with an alert.
    self_card = _only(await root.send(str(ROOT)), SendMessage)
    assert t("en", "admin.user_configured") in self_card.text
    refused = await root.press(
        self_card, _button(self_card.reply_markup, t("en", "admin.btn.block"))
    )
    alert = _only(refused, AnswerCallbackQuery)
    assert alert.text == t("en", "error.admin_self") and alert.show_alert
    assert not (await _user(sessionmaker, ROOT)).blocked

    assert await root.reply_to("/cancel") == t("en", "admin.search_cancelled")
    assert only_the_hint(await root.send("@dave"), "en")  # no search any more
    assert [e.action for e in await audit_actions(sessionmaker)] == [
        "admin.user_blocked",
        "admin.user_unblocked",
        "admin.role_granted",
        "admin.role_revoked",
    ]


async def test_limits_shown_and_changed_with_clear_errors(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    root = make_user(ROOT, username="root_admin", language_code="ru")
    await root.send("/start")
    names = (
        "daily_per_account, daily_per_chat, lifetime_per_chat, daily_per_target, pause_min_s, pause_max_s, "
        "flood_buffer_s, peer_flood_park_s"
    )
    assert await root.reply_to("/admin_limits") == t("ru", "admin.limits_usage", names=names)
    bad = await root.reply_to("/admin_limits daily_per_account=0")
    assert bad == t(
        "ru",
        "admin.limits_invalid",
        problem=t("ru", "problem.limit_range", field="daily_per_account", low=1, high=10_000_000),
    )
    assert "«daily»" in await root.reply_to("/admin_limits daily")
    assert "pause_min_s" in await root.reply_to("/admin_limits pause_min_s=1000 pause_max_s=900")
    assert "no_such" in await root.reply_to("/admin_limits no_such=3")

    saved = await root.reply_to("/admin_limits daily_per_account=20 daily_per_chat=10")
    assert saved.startswith(t("ru", "admin.limits_saved"))
    assert "• daily_per_account: 20" in saved and "• daily_per_chat: 10" in saved
    async with sessionmaker() as session:
        stored = await session.get(InstallationSetting, LIMITS_KEY)
        assert stored is not None
        assert (stored.value["daily_per_account"], stored.value["daily_per_chat"]) == (20, 10)
    [event] = await audit_actions(sessionmaker)
    assert event.details["changed"] == {"daily_per_account": 20, "daily_per_chat": 10}

    menu = _only(await root.send("/admin"), SendMessage)
    shown = _only(
        await root.press(menu, _button(menu.reply_markup, t("ru", "admin.btn.limits"))),
        EditMessageText,
    )
    assert "• daily_per_account: 20" in shown.text and t("ru", "admin.limits_stored") in shown.text


async def test_admin_commands_in_a_group_point_to_the_private_chat(
    make_user: Callable[..., TgUser],
) -> None:
    root = make_user(ROOT, username="root_admin")
    await root.send("/start")
    calls = await root.send_in_group("/admin")
    assert _only(calls, SendMessage).text == t("en", "private_only")
