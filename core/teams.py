"""Workspace teams (DESIGN §2): who is in a workspace and with which role.

Any member sees the team. Only the owner adds managers (by Telegram username, and only
people who have sent /start to the bot, since the bot must be able to reach them) and
removes them; a manager may remove themself, which is leaving. The owner always stays.
The rules live here so that the bot, the API and the panel agree; every change is written
to the audit log and the person concerned hears about it from the bot.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.dto import TeamMember, WorkspaceRef, WorkspaceRole
from core.errors import InvalidInput, NotFound
from core.interfaces import Dal, Notifier
from core.logincodes import normalize_username
from core.users import ensure_owner, workspace_of

# Notice kinds (bot/notices.py renders them): to the person added or removed, and to the
# owner when a manager leaves.
TEAM_ADDED = "team_added"
TEAM_REMOVED = "team_removed"
TEAM_LEFT = "team_left"
MAX_TEAM = 50
"""People in one workspace, the owner included: a team is listed in one page, never unbounded."""


@dataclass(frozen=True, slots=True)
class Team:
    workspace: WorkspaceRef
    """As the caller sees it: `role` is the caller's role."""
    members: list[TeamMember]

    @property
    def managers(self) -> list[TeamMember]:
        return [m for m in self.members if m.role is WorkspaceRole.MANAGER]


def _username(raw: str) -> str:
    name = normalize_username(raw)
    if name is None:
        raise InvalidInput("username", field="username", problem="team_username")
    return name


def _label_of(members: list[TeamMember], user_id: int) -> str:
    return next((m.label for m in members if m.user_id == user_id), "?")


class TeamService:
    def __init__(self, notifier: Notifier | None) -> None:
        self._notifier = notifier

    async def team(self, dal: Dal, user_id: int, workspace_id: int) -> Team:
        """The workspace's members with their roles; any member may look."""
        workspace = await workspace_of(dal, user_id, workspace_id)
        return Team(workspace=workspace, members=await dal.list_members(workspace_id))

    async def team_to_manage(self, dal: Dal, user_id: int, workspace_id: int) -> Team:
        """The team, for choosing whom to remove: owner only (`Forbidden`)."""
        team = await self.team(dal, user_id, workspace_id)
        ensure_owner(team.workspace.role)
        return team

    async def add_manager(
        self, dal: Dal, user_id: int, workspace_id: int, username: str
    ) -> TeamMember:
        """Add a manager by Telegram username. Owner only (`Forbidden`).

        `InvalidInput` with a problem code when the username is malformed
        (`team_username`), nobody with it has sent /start (`team_not_registered`), the
        person is already a manager (`team_already_member`) or is the owner (`team_owner`),
        or the team is full (`team_full`).
        """
        workspace = await workspace_of(dal, user_id, workspace_id)
        ensure_owner(workspace.role)
        name = _username(username)
        members = await dal.list_members(workspace_id)
        if len(members) >= MAX_TEAM:
            raise InvalidInput("username", field="username", problem="team_full", max=MAX_TEAM)
        person = await dal.find_user_by_username(name)
        if person is None:
            raise InvalidInput(
                "username", field="username", problem="team_not_registered", username=name
            )
        if not await dal.add_member(workspace_id, person.id, WorkspaceRole.MANAGER):
            role = await dal.workspace_role(person.id, workspace_id)
            problem = "team_owner" if role is WorkspaceRole.OWNER else "team_already_member"
            raise InvalidInput("username", field="username", problem=problem, username=name)
        await dal.audit(
            "team.manager_added",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"user_id": person.id, "username": person.username},
        )
        await dal.commit()
        await self._tell(
            person.telegram_id, TEAM_ADDED, workspace=workspace.name, by=_label_of(members, user_id)
        )
        return TeamMember(
            user_id=person.id,
            telegram_id=person.telegram_id,
            username=person.username,
            first_name=person.first_name,
            role=WorkspaceRole.MANAGER,
        )

    async def remove_member(
        self, dal: Dal, user_id: int, workspace_id: int, member_id: int
    ) -> TeamMember:
        """Remove a manager: the owner removes anyone but themself; a manager only themself
        (leaving). Someone else's removal by a manager is `Forbidden`, a person not in the
        team `NotFound`, the owner `InvalidInput` (`team_owner`)."""
        workspace = await workspace_of(dal, user_id, workspace_id)
        if member_id != user_id:
            ensure_owner(workspace.role)
        members = await dal.list_members(workspace_id)
        return await self._remove(dal, user_id, workspace, members, member_id)

    async def remove_by_username(
        self, dal: Dal, user_id: int, workspace_id: int, username: str
    ) -> TeamMember:
        """`remove_member` for a username; one not in the team is `team_not_member`."""
        workspace = await workspace_of(dal, user_id, workspace_id)
        name = _username(username)
        members = await dal.list_members(workspace_id)
        target = next((m for m in members if (m.username or "").lower() == name), None)
        if target is None or target.user_id != user_id:
            ensure_owner(workspace.role)
        if target is None:
            raise InvalidInput(
                "username", field="username", problem="team_not_member", username=name
            )
        return await self._remove(dal, user_id, workspace, members, target.user_id)

    async def _remove(
        self,
        dal: Dal,
        user_id: int,
        workspace: WorkspaceRef,
        members: list[TeamMember],
        member_id: int,
    ) -> TeamMember:
        target = next((m for m in members if m.user_id == member_id), None)
        if target is None:
            raise NotFound("member", user_id=member_id)
        if target.role is WorkspaceRole.OWNER:
            raise InvalidInput("user_id", field="user_id", problem="team_owner")
        if not await dal.remove_member(workspace.id, member_id):
            raise NotFound("member", user_id=member_id)  # removed by someone else just now
        leaving = member_id == user_id
        await dal.audit(
            "team.manager_left" if leaving else "team.manager_removed",
            actor_user_id=user_id,
            workspace_id=workspace.id,
            details={"user_id": target.user_id, "username": target.username},
        )
        await dal.commit()
        if leaving:
            owner = next(m for m in members if m.role is WorkspaceRole.OWNER)
            await self._tell(
                owner.telegram_id, TEAM_LEFT, workspace=workspace.name, member=target.label
            )
        else:
            await self._tell(
                target.telegram_id,
                TEAM_REMOVED,
                workspace=workspace.name,
                by=_label_of(members, user_id),
            )
        return target

    async def _tell(self, telegram_id: int, kind: str, **payload: str) -> None:
        if self._notifier is not None:
            await self._notifier.notify(telegram_id, kind, payload)
