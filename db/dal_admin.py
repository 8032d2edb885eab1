"""SQL for installation admins: users across workspaces, installation settings, totals,
account health and the audit log (part of `SqlDal`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.campaigns import CampaignStatus
from core.dto import AccountDTO, AccountStatus, GlobalRole, UserDTO
from core.installation import AuditEntry, InstallationCounts
from core.parsing import ParseStatus
from db.dal_accounts import account_dto
from db.driver import fetchval
from db.models import (
    AuditEvent,
    AuthSession,
    Campaign,
    InstallationSetting,
    InviteEvent,
    ParseTask,
    TelegramAccount,
    User,
    Workspace,
)

_LIVE_TASKS = (ParseStatus.QUEUED, ParseStatus.RUNNING)
_LIVE_CAMPAIGNS = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.WAITING)


def _user(row: User) -> UserDTO:
    from db.dal import _user_dto  # db.dal imports this module: resolved at call time

    return _user_dto(row)


def _like_prefix(text: str) -> str:
    """A LIKE pattern for names starting with `text`, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class AdminSql:
    session: AsyncSession

    # --- installation settings --------------------------------------------------------------
    async def get_installation_setting(self, key: str) -> dict[str, Any] | None:
        # Read by every campaign page and report (the admins' maximums): through the driver.
        value = await fetchval(
            self.session, "SELECT value FROM installation_settings WHERE key = $1", key
        )
        return cast("dict[str, Any] | None", value)

    async def put_installation_setting(
        self, key: str, value: dict[str, Any], user_id: int | None
    ) -> None:
        stmt = insert(InstallationSetting).values(key=key, value=value, updated_by_user_id=user_id)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[InstallationSetting.key],
                set_={"value": value, "updated_by_user_id": user_id, "updated_at": func.now()},
            )
        )

    # --- users -------------------------------------------------------------------------------
    async def search_users(
        self, *, username_prefix: str | None, telegram_id: int | None, after_id: int, limit: int
    ) -> list[UserDTO]:
        stmt = select(User).where(User.id > after_id).order_by(User.id).limit(limit)
        found = []
        if telegram_id is not None:
            found.append(User.telegram_id == telegram_id)
        if username_prefix:
            found.append(func.lower(User.username).like(_like_prefix(username_prefix), escape="\\"))
        if found:
            stmt = stmt.where(or_(*found))
        return [_user(row) for row in await self.session.scalars(stmt)]

    async def _update_user(self, user_id: int, **values: Any) -> UserDTO | None:
        row = await self.session.scalar(
            update(User)
            .where(User.id == user_id)
            .values(**values, updated_at=func.now())
            .returning(User)
            .execution_options(populate_existing=True)
        )
        return _user(row) if row is not None else None

    async def set_user_blocked(self, user_id: int, blocked: bool) -> UserDTO | None:
        return await self._update_user(user_id, blocked=blocked)

    async def set_user_role(self, user_id: int, role: GlobalRole) -> UserDTO | None:
        return await self._update_user(user_id, role=role)

    async def revoke_user_sessions(
        self, user_id: int, at: datetime, reason: str
    ) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=at, revoke_reason=reason)
            .returning(AuthSession.id)
        )
        return list(rows)

    # --- totals --------------------------------------------------------------------------------
    async def _count_by(self, column: Any, *where: Any) -> dict[str, int]:
        rows = await self.session.execute(
            select(column, func.count()).where(*where).group_by(column)
        )
        return {str(getattr(key, "value", key)): count for key, count in rows}

    async def installation_counts(self, day: datetime) -> InstallationCounts:
        users = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count().filter(User.role == GlobalRole.ADMIN),
                    func.count().filter(User.blocked.is_(True)),
                )
            )
        ).one()
        return InstallationCounts(
            users=users[0],
            admins=users[1],
            blocked=users[2],
            workspaces=await self.session.scalar(select(func.count()).select_from(Workspace)) or 0,
            accounts=await self._count_by(TelegramAccount.status),
            invites_today=await self._count_by(InviteEvent.outcome, InviteEvent.at >= day),
            parse_tasks=await self._count_by(ParseTask.status, ParseTask.status.in_(_LIVE_TASKS)),
            campaigns=await self._count_by(Campaign.status, Campaign.status.in_(_LIVE_CAMPAIGNS)),
        )

    # --- account health ------------------------------------------------------------------------
    async def accounts_health(
        self, status: AccountStatus | None, *, after_id: int, limit: int
    ) -> list[AccountDTO]:
        stmt = (
            select(TelegramAccount)
            .where(TelegramAccount.id > after_id)
            .order_by(TelegramAccount.id)
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(TelegramAccount.status == status)
        return [account_dto(row) for row in await self.session.scalars(stmt)]

    # --- audit log -----------------------------------------------------------------------------
    async def audit_events(
        self, workspace_id: int | None, *, before_id: int | None, limit: int
    ) -> list[AuditEntry]:
        stmt = (
            select(AuditEvent, User.username)
            .outerjoin(User, User.id == AuditEvent.actor_user_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
        if workspace_id is not None:
            stmt = stmt.where(AuditEvent.workspace_id == workspace_id)
        if before_id is not None:
            stmt = stmt.where(AuditEvent.id < before_id)
        return [
            AuditEntry(
                id=event.id,
                at=event.at,
                actor_user_id=event.actor_user_id,
                actor_username=username,
                action=event.action,
                workspace_id=event.workspace_id,
                details=event.details,
                ip=str(event.ip) if event.ip is not None else None,
                trace_id=event.trace_id,
            )
            for event, username in await self.session.execute(stmt)
        ]
