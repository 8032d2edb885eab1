"""/team, /team_add, /team_remove and switching the bot's workspace, through the real Dispatcher."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.notices import deliver
from core.dto import WorkspaceRole
from core.i18n import t
from db.dal import open_dal
from db.kv import NOTIFY_STREAM
from db.models import AuditEvent, Membership, User
from tests.bot.conftest import RecordingSession, TgUser


def replies(calls: list[Any]) -> list[SendMessage]:
    return [c for c in calls if isinstance(c, SendMessage)]


def buttons(message: SendMessage | EditMessageText) -> list[tuple[str, str | None]]:
    markup = message.reply_markup
    return (
        [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row] if markup else []
    )


async def ids(sm: async_sessionmaker[AsyncSession], telegram_id: int) -> tuple[int, int]:
    """(internal user id, personal workspace id)."""
    async with open_dal(sm) as dal:
        user = await dal.get_user_by_telegram_id(telegram_id)
        assert user is not None
        return user.id, (await dal.list_workspaces(user.id))[0].id


async def notices(redis: Redis) -> list[tuple[int, str, dict[str, str]]]:
    entries = await redis.xrange(NOTIFY_STREAM)
    return [
        (int(f[b"telegram_id"]), f[b"kind"].decode(), json.loads(f[b"payload"])) for _, f in entries
    ]


async def started(
    make_user: Callable[..., TgUser], telegram_id: int, username: str | None, lang: str
) -> TgUser:
    person = make_user(
        telegram_id, username=username, first_name=username or "Anon", language_code=lang
    )
    await person.send("/start")
    return person


async def test_team_lists_members_with_roles_and_the_owners_hints(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    olga = await started(make_user, 7001, "olga_owner", "ru")
    await started(make_user, 7002, "ivan_mgr", "en")
    _, ws = await ids(sessionmaker, 7001)
    ivan_id, _ = await ids(sessionmaker, 7002)
    async with sessionmaker() as session, session.begin():
        session.add(Membership(workspace_id=ws, user_id=ivan_id, role=WorkspaceRole.MANAGER))

    (shown,) = replies(await olga.send("/team"))
    assert shown.text == "\n".join(
        [
            t("ru", "team.title", workspace="@olga_owner", role="владелец"),
            "• @olga_owner — владелец",
            "• @ivan_mgr — менеджер",
            "",
            t("ru", "team.owner_hint"),
        ]
    )
    assert shown.reply_markup is None  # one workspace: nothing to switch to

    # In a group the team is not shown.
    (refused,) = replies(await olga.send_in_group("/team"))
    assert refused.text == t("ru", "private_only")


async def test_team_add_explains_every_refusal_and_tells_the_new_manager(
    make_user: Callable[..., TgUser],
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    bot: Bot,
    recording: RecordingSession,
) -> None:
    owner = await started(make_user, 7011, "anna_owner", "en")
    petr = await started(make_user, 7012, "Petr_M", "ru")
    _, ws = await ids(sessionmaker, 7011)

    assert await owner.reply_to("/team_add") == t("en", "team_add.usage")
    assert await owner.reply_to("/team_add not a name") == t(
        "en", "team.failed", problem=t("en", "problem.team_username")
    )
    assert await owner.reply_to("/team_add @ghost_user") == t(
        "en", "team.failed", problem=t("en", "problem.team_not_registered", username="ghost_user")
    )
    assert "ask them to send /start" in await owner.reply_to("/team_add @ghost_user")
    assert await owner.reply_to("/team_add @anna_owner") == t(
        "en", "team.failed", problem=t("en", "problem.team_owner")
    )
    assert await redis.xlen(NOTIFY_STREAM) == 0

    assert await owner.reply_to("/team_add @petr_m") == t(
        "en", "team.added", name="@Petr_M", workspace="@anna_owner"
    )
    assert await owner.reply_to("/team_add petr_m") == t(
        "en", "team.failed", problem=t("en", "problem.team_already_member", username="petr_m")
    )
    petr_id, _ = await ids(sessionmaker, 7012)
    async with sessionmaker() as session:
        role = await session.scalar(
            select(Membership.role).where(
                Membership.workspace_id == ws, Membership.user_id == petr_id
            )
        )
        actions = list(
            await session.scalars(select(AuditEvent.action).where(AuditEvent.workspace_id == ws))
        )
    assert role is WorkspaceRole.MANAGER
    assert actions.count("team.manager_added") == 1

    # The new manager hears it from the bot, in their language.
    ((telegram_id, kind, payload),) = await notices(redis)
    await deliver(bot, sessionmaker, telegram_id, kind, payload)
    assert recording.sent()[-1].chat_id == 7012
    assert recording.sent()[-1].text == t(
        "ru", "team.added_notice", by="@anna_owner", workspace="@anna_owner"
    )

    # In the team's workspace the manager cannot add anyone.
    await switch_to(petr, "@anna_owner")
    assert await petr.reply_to("/team_add @someone_else") == t(
        "ru", "team.not_owner", workspace="@anna_owner"
    )


async def switch_to(person: TgUser, workspace: str) -> EditMessageText:
    """Open /team and press the button of `workspace`; returns the redrawn message."""
    (shown,) = replies(await person.send("/team"))
    (data,) = [d for text, d in buttons(shown) if workspace in text and d.startswith("team:ws:")]
    calls = await person.press(shown, data)
    (edited,) = [c for c in calls if isinstance(c, EditMessageText)]
    return edited


async def test_switching_workspace_moves_the_bot_into_the_team_and_back_after_removal(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner = await started(make_user, 7021, "team_boss", "en")
    mila = await started(make_user, 7022, "mila_m", "en")
    owner_id, team_ws = await ids(sessionmaker, 7021)
    mila_id, mila_ws = await ids(sessionmaker, 7022)
    async with open_dal(sessionmaker) as dal:
        await dal.create_audience(team_ws, "Team leads", None, owner_id)
        await dal.commit()
    await owner.send("/team_add @mila_m")

    assert await mila.reply_to("/audiences") == t("en", "audiences.empty")
    (shown,) = replies(await mila.send("/team"))
    assert buttons(shown) == [
        ("✓ @mila_m", f"team:ws:{mila_ws}:0"),
        ("@team_boss (manager)", f"team:ws:{team_ws}:0"),
    ]

    edited = await switch_to(mila, "@team_boss")
    assert edited.text.startswith(t("en", "team.switched", workspace="@team_boss") + "\n")
    assert t("en", "team.title", workspace="@team_boss", role="manager") in edited.text
    assert t("en", "team.manager_hint") in edited.text
    assert buttons(edited) == [
        ("@mila_m (owner)", f"team:ws:{mila_ws}:0"),
        ("✓ @team_boss", f"team:ws:{team_ws}:0"),
        ("Leave «@team_boss»", f"team:rm:{team_ws}:{mila_id}"),
    ]
    async with sessionmaker() as session:
        assert (
            await session.scalar(select(User.current_workspace_id).where(User.id == mila_id))
            == team_ws
        )
    listing = await mila.reply_to("/audiences")
    assert t("en", "audiences.item", name="Team leads", size=0) in listing

    # The owner removes her with the /team_remove buttons; her bot is back home.
    (choice,) = replies(await owner.send("/team_remove"))
    assert choice.text == t("en", "team_remove.choose", workspace="@team_boss")
    assert buttons(choice) == [("Remove @mila_m", f"team:rm:{team_ws}:{mila_id}")]
    calls = await owner.press(choice, f"team:rm:{team_ws}:{mila_id}")
    (after,) = [c for c in calls if isinstance(c, EditMessageText)]
    removed = t("en", "team.removed", name="@mila_m", workspace="@team_boss")
    assert after.text == removed + "\n\n" + t("en", "team_remove.none", workspace="@team_boss")
    assert [c.text for c in calls if isinstance(c, AnswerCallbackQuery)] == [removed]
    assert await mila.reply_to("/audiences") == t("en", "audiences.empty")
    # An old switch button no longer opens the team: it is not hers.
    calls = await mila.press(shown, f"team:ws:{team_ws}:0")
    assert [(type(c), c.text) for c in calls] == [(AnswerCallbackQuery, t("en", "error.not_found"))]


async def test_team_remove_by_name_and_leaving(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    owner = await started(make_user, 7031, "boss_r", "en")
    kira = await started(make_user, 7032, "kira_r", "ru")
    await started(make_user, 7033, "lev_r", "en")
    owner_id, team_ws = await ids(sessionmaker, 7031)

    assert await owner.reply_to("/team_remove") == t("en", "team_remove.none", workspace="@boss_r")
    assert await owner.reply_to("/team_remove @lev_r") == t(
        "en", "team.failed", problem=t("en", "problem.team_not_member", username="lev_r")
    )
    assert await owner.reply_to("/team_remove @boss_r") == t(
        "en", "team.failed", problem=t("en", "problem.team_owner")
    )
    assert await owner.reply_to("/team_remove lev r") == t(
        "en", "team.failed", problem=t("en", "problem.team_username")
    )
    await owner.send("/team_add @kira_r")
    await owner.send("/team_add @lev_r")
    assert await owner.reply_to("/team_remove @LEV_R") == t(
        "en", "team.removed", name="@lev_r", workspace="@boss_r"
    )

    await switch_to(kira, "@boss_r")
    assert await kira.reply_to("/team_remove") == t("ru", "team.not_owner", workspace="@boss_r")
    assert await kira.reply_to("/team_remove @boss_r") == t(
        "ru", "team.not_owner", workspace="@boss_r"
    )

    # Kira leaves with the button of /team; the owner is told.
    (shown,) = replies(await kira.send("/team"))
    kira_id, _ = await ids(sessionmaker, 7032)
    calls = await kira.press(shown, f"team:rm:{team_ws}:{kira_id}")
    (after,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert after.text.startswith(
        t("ru", "team.left", workspace="@boss_r", current="@kira_r") + "\n"
    )
    assert t("ru", "team.title", workspace="@kira_r", role="владелец") in after.text
    async with open_dal(sessionmaker) as dal:
        assert [m.user_id for m in await dal.list_members(team_ws)] == [owner_id]
    kinds = [(tg, kind) for tg, kind, _ in await notices(redis)]
    assert kinds[-2:] == [(7033, "team_removed"), (7031, "team_left")]
