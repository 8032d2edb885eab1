"""The owner's side of retention in the bot: /erase with its confirmation button, and the
notices before and at an unused audience's deletion (workers/retention.py), in ru and en."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.methods import EditMessageText, SendMessage
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.notices import cancel_and_wait, run_notices
from core.accounts import build_account_service
from core.i18n import t
from core.parsing import ParseKind, ParseStatus
from core.settings import Settings
from db.dal import open_dal
from db.dal_invites import InviteDal
from db.kv import RedisNotifier
from db.leases import LeaseStore
from db.models import ParseTask
from gateway.telegram import TelegramGateway
from tests.bot.conftest import RecordingSession, TgUser
from tests.invites.conftest import make_audience
from workers.retention import RetentionJob


async def workspace_of(sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int) -> int:
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(telegram_id)
        assert user is not None
        return (await dal.list_workspaces(user.id))[0].id


async def count(sessionmaker: async_sessionmaker[AsyncSession], sql: str, **params: object) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(text(sql), params) or 0)


async def test_erase_asks_then_erases_for_the_owner_only(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner = make_user(61_001, username="olga", language_code="ru")
    await owner.send("/start")
    ws = await workspace_of(sessionmaker, 61_001)
    await make_audience(
        sessionmaker, ws, "people", [(62_001, "erin", None, None), (62_002, None, None, None)]
    )

    assert await owner.reply_to("/erase") == t("ru", "erase.usage")
    assert await owner.reply_to("/erase erin x") == t(
        "ru", "erase.failed", problem=t("ru", "problem.erase_person")
    )
    calls = await owner.send("/erase @Erin")
    (ask,) = [c for c in calls if isinstance(c, SendMessage)]
    assert ask.text == t(
        "ru", "erase.confirm", person="@erin", workspace=(await _name(sessionmaker, ws))
    )
    buttons = [b for row in ask.reply_markup.inline_keyboard for b in row]
    assert [b.text for b in buttons] == [t("ru", "erase.yes"), t("ru", "erase.no")]
    # Asking erased nothing; "no" erases nothing either.
    assert (
        await count(sessionmaker, "SELECT count(*) FROM audience_members WHERE tg_user_id = 62001")
        == 1
    )
    no = await owner.press(ask, buttons[1].callback_data)
    assert [c.text for c in no if isinstance(c, EditMessageText)] == [t("ru", "erase.cancelled")]
    assert (
        await count(sessionmaker, "SELECT count(*) FROM audience_members WHERE tg_user_id = 62001")
        == 1
    )

    # A manager of the workspace is refused, by the command and by a pressed button alike.
    mila = make_user(61_002, username="mila")
    await mila.send("/start")
    async with sessionmaker() as session, session.begin():
        mila_id = await session.scalar(text("SELECT id FROM users WHERE telegram_id = 61002"))
        await session.execute(
            text(
                "INSERT INTO memberships (workspace_id, user_id, role) VALUES (:w, :u, 'manager')"
            ),
            {"w": ws, "u": mila_id},
        )
        await session.execute(
            text("UPDATE users SET current_workspace_id = :w WHERE id = :u"),
            {"w": ws, "u": mila_id},
        )
    assert await mila.reply_to("/erase @erin") == t(
        "en", "erase.not_owner", workspace=await _name(sessionmaker, ws)
    )
    await mila.press(ask, buttons[0].callback_data)
    assert (
        await count(sessionmaker, "SELECT count(*) FROM audience_members WHERE tg_user_id = 62001")
        == 1
    )

    done = await owner.press(ask, buttons[0].callback_data)
    (result,) = [c.text for c in done if isinstance(c, EditMessageText)]
    assert result.startswith(t("ru", "erase.done", person="@erin", total=1))
    assert t("ru", "erase.kept") in result
    assert (
        await count(sessionmaker, "SELECT count(*) FROM audience_members WHERE tg_user_id = 62001")
        == 0
    )
    assert (
        await count(sessionmaker, "SELECT count(*) FROM audience_members WHERE tg_user_id = 62002")
        == 1
    )
    assert (
        await count(
            sessionmaker,
            "SELECT count(*) FROM opt_outs WHERE tg_user_id = 62001 AND reason = 'erased'",
        )
        == 1
    )
    # Never in a group: it names a person.
    group = await owner.send_in_group("/erase @erin")
    assert [c.text for c in group if isinstance(c, SendMessage)] == [t("ru", "private_only")]


async def _name(sessionmaker: async_sessionmaker[AsyncSession], ws: int) -> str:
    async with sessionmaker() as session:
        return str(
            await session.scalar(text("SELECT name FROM workspaces WHERE id = :w"), {"w": ws})
        )


async def test_unused_audience_is_deleted_a_week_after_a_notice_and_a_used_one_kept(
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    gateway: TelegramGateway,
) -> None:
    owner = make_user(63_001, username="oleg", language_code="ru")
    await owner.send("/start")
    english = make_user(63_002, username="emma", language_code="en")
    await english.send("/start")
    ws, ws_en = await workspace_of(sessionmaker, 63_001), await workspace_of(sessionmaker, 63_002)
    now = datetime.now(UTC)
    old = await make_audience(sessionmaker, ws, "old", [(64_001, None, None, None)])
    used = await make_audience(sessionmaker, ws, "used", [(64_002, None, None, None)])
    revived = await make_audience(sessionmaker, ws_en, "revived", [(64_003, None, None, None)])
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE audiences SET created_at = :t"), {"t": now - timedelta(days=200)}
        )
        # A campaign made from `used` ten days ago keeps it.
        cid = await InviteDal(session).create_campaign(ws, "c", used, "target_group")
        await session.execute(
            text("UPDATE campaigns SET created_at = :t WHERE id = :c"),
            {"t": now - timedelta(days=10), "c": cid},
        )
    job = RetentionJob(
        sessionmaker=sessionmaker,
        gateway=gateway,
        service=build_account_service(settings, None),
        leases=LeaseStore(sessionmaker, "w", ttl_s=30),
        notifier=RedisNotifier(redis),
        retention_days=180,
        pace_s=0,
    )
    task = asyncio.create_task(run_notices(bot, redis, sessionmaker, block_ms=100))
    try:
        assert await job.audiences(now) == {"noticed": 2, "deleted": 0}
        assert await job.audiences(now + timedelta(hours=1)) == {
            "noticed": 0,
            "deleted": 0,
        }  # told once
        date = (now + timedelta(days=7)).strftime("%Y-%m-%d")
        await _wait_for(
            recording,
            63_001,
            t("ru", "audiences.expiring_notice", name="old", size=0, days=180, date=date),
        )
        await _wait_for(
            recording,
            63_002,
            t("en", "audiences.expiring_notice", name="revived", size=0, days=180, date=date),
        )
        # `revived` is used within the week: a collection into it.
        async with sessionmaker() as session, session.begin():
            at = now + timedelta(days=3)
            session.add(
                ParseTask(
                    workspace_id=ws_en,
                    kind=ParseKind.MEMBERS,
                    source="lounge",
                    audience_id=revived,
                    status=ParseStatus.DONE,
                    created_at=at,
                    finished_at=at,
                    updated_at=at,
                )
            )
        assert await job.audiences(now + timedelta(days=6)) == {"noticed": 0, "deleted": 0}
        assert await job.audiences(now + timedelta(days=7, minutes=1)) == {
            "noticed": 0,
            "deleted": 1,
        }
        await _wait_for(
            recording, 63_001, t("ru", "audiences.expired_notice", name="old", size=0, days=180)
        )
    finally:
        await cancel_and_wait(task)
    assert set(await _names(sessionmaker)) == {"used", "revived"}
    assert (
        await count(sessionmaker, "SELECT count(*) FROM audience_members WHERE tg_user_id = 64001")
        == 0
    )
    assert (
        await count(
            sessionmaker, "SELECT count(*) FROM audit_log WHERE action = 'audience.expired'"
        )
        == 1
    )
    assert old not in {used, revived}


async def _names(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        return [str(n) for n in await session.scalars(text("SELECT name FROM audiences"))]


async def _wait_for(recording: RecordingSession, chat_id: int, expected: str) -> None:
    try:
        async with asyncio.timeout(10):
            while not any(m.chat_id == chat_id and m.text == expected for m in recording.sent()):
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError([(m.chat_id, m.text) for m in recording.sent()]) from None
