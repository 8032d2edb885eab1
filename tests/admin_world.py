"""Rows the admin tests look at: users, accounts in several states, invites, tasks, campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import AccountStatus, TelegramProfile, UserDTO
from core.users import register
from db.dal import open_dal
from db.models import Audience, AuditEvent, Campaign, InviteEvent, ParseTask, TelegramAccount


async def registered(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram_id: int,
    username: str | None,
    *,
    admin_ids: tuple[int, ...] = (),
) -> UserDTO:
    async with open_dal(sessionmaker) as dal:
        user, _ = await register(
            dal, TelegramProfile(telegram_id, username, username or "Anon", None, "en"), admin_ids
        )
    return user


async def personal_workspace_id(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: int
) -> int:
    async with open_dal(sessionmaker) as dal:
        return (await dal.list_workspaces(user_id))[0].id


async def add_account(
    sessionmaker: async_sessionmaker[AsyncSession],
    workspace_id: int,
    tg_user_id: int,
    status: AccountStatus,
    *,
    reason: str | None = None,
    until: datetime | None = None,
) -> int:
    async with sessionmaker() as session:
        row = TelegramAccount(
            workspace_id=workspace_id,
            tg_user_id=tg_user_id,
            username=f"acc{tg_user_id}",
            first_name="Acc",
            status=status,
            status_reason=reason,
            cooldown_until=until,
            session_key_id="k1",
            session_nonce=b"0" * 12,
            session_ciphertext=b"sealed",
        )
        session.add(row)
        await session.commit()
        return row.id


async def add_work(sessionmaker: async_sessionmaker[AsyncSession], workspace_id: int) -> None:
    """Invites today and yesterday, a running and a finished collection task, campaigns."""
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        audience = Audience(workspace_id=workspace_id, name="people")
        session.add(audience)
        await session.flush()
        session.add_all(
            [
                ParseTask(
                    workspace_id=workspace_id,
                    kind="members",
                    source="a",
                    audience_id=audience.id,
                    status="running",
                ),
                ParseTask(
                    workspace_id=workspace_id,
                    kind="members",
                    source="b",
                    audience_id=audience.id,
                    status="done",
                ),
                Campaign(workspace_id=workspace_id, name="c1", target_ref="chat", status="running"),
                Campaign(workspace_id=workspace_id, name="c2", target_ref="chat", status="waiting"),
                Campaign(workspace_id=workspace_id, name="c3", target_ref="chat", status="done"),
            ]
        )
        for n, outcome in enumerate(("invited", "invited", "failed")):
            session.add(
                InviteEvent(
                    workspace_id=workspace_id, chat_id=1, tg_user_id=n, outcome=outcome, at=now
                )
            )
        session.add(
            InviteEvent(
                workspace_id=workspace_id,
                chat_id=1,
                tg_user_id=9,
                outcome="invited",
                at=now - timedelta(days=2),
            )
        )
        await session.commit()


async def audit_actions(
    sessionmaker: async_sessionmaker[AsyncSession], prefix: str = "admin."
) -> list[AuditEvent]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)
        )
        return list(rows)
