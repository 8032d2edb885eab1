"""SQL for workspace teams and the bot's current workspace (part of `SqlDal`)."""

from __future__ import annotations

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.dto import TeamMember, WorkspaceRole
from db.models import Membership, User


class TeamSql:
    session: AsyncSession
    _roles: dict[tuple[int, int], WorkspaceRole | None]  # SqlDal's memo of workspace_role

    async def current_workspace_id(self, user_id: int) -> int | None:
        return await self.session.scalar(
            select(User.current_workspace_id).where(User.id == user_id)
        )

    async def set_current_workspace(self, user_id: int, workspace_id: int) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(current_workspace_id=workspace_id)
        )

    async def list_members(self, workspace_id: int) -> list[TeamMember]:
        owner_first = case((Membership.role == WorkspaceRole.OWNER, 0), else_=1)
        rows = await self.session.execute(
            select(User.id, User.telegram_id, User.username, User.first_name, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id)
            .order_by(owner_first, Membership.created_at, User.id)
        )
        return [
            TeamMember(
                user_id=r[0],
                telegram_id=r[1],
                username=r[2],
                first_name=r[3],
                role=WorkspaceRole(r[4]),
            )
            for r in rows
        ]

    async def add_member(self, workspace_id: int, user_id: int, role: WorkspaceRole) -> bool:
        self._roles.clear()
        # ON CONFLICT rather than a read first: two owners' clicks at once add one row.
        added = await self.session.scalar(
            insert(Membership)
            .values(workspace_id=workspace_id, user_id=user_id, role=role)
            .on_conflict_do_nothing(index_elements=[Membership.workspace_id, Membership.user_id])
            .returning(Membership.user_id)
        )
        return added is not None

    async def remove_member(self, workspace_id: int, user_id: int) -> bool:
        self._roles.clear()
        removed = await self.session.scalar(
            delete(Membership)
            .where(Membership.workspace_id == workspace_id, Membership.user_id == user_id)
            .returning(Membership.user_id)
        )
        if removed is None:
            return False
        await self.session.execute(
            update(User)
            .where(User.id == user_id, User.current_workspace_id == workspace_id)
            .values(current_workspace_id=None)
        )
        return True
