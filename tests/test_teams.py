"""Team rules (`core.teams`) and the bot's current workspace (`core.users`), on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import teams as teams_module
from core.dto import TelegramProfile, UserDTO, WorkspaceRole
from core.errors import Forbidden, InvalidInput, NotFound
from core.teams import TEAM_ADDED, TEAM_LEFT, TEAM_REMOVED, TeamService
from core.users import current_workspace, register, switch_workspace
from db.dal import open_dal
from db.models import AuditEvent, Membership, User


class RecordingNotifier:
    """A `Notifier` that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, dict[str, str]]] = []

    async def notify(self, telegram_id: int, kind: str, payload: dict[str, str]) -> None:
        self.sent.append((telegram_id, kind, payload))


Register = Callable[..., Awaitable[UserDTO]]


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def teams(notifier: RecordingNotifier) -> TeamService:
    return TeamService(notifier)


@pytest.fixture
def person(sessionmaker: async_sessionmaker[AsyncSession]) -> Register:
    async def make(telegram_id: int, username: str | None) -> UserDTO:
        async with open_dal(sessionmaker) as dal:
            user, _ = await register(
                dal, TelegramProfile(telegram_id, username, username or "Nameless", None, "en"), ()
            )
        return user

    return make


async def _ws(sm: async_sessionmaker[AsyncSession], user: UserDTO) -> int:
    async with open_dal(sm) as dal:
        return (await dal.list_workspaces(user.id))[0].id


async def _audit(
    sm: async_sessionmaker[AsyncSession],
) -> list[tuple[str, int | None, dict[str, object]]]:
    async with sm() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("team.%")).order_by(AuditEvent.id)
        )
        return [(r.action, r.actor_user_id, r.details) for r in rows]


async def test_owner_adds_a_manager_who_is_told_and_sees_the_team(
    sessionmaker: async_sessionmaker[AsyncSession],
    teams: TeamService,
    notifier: RecordingNotifier,
    person: Register,
) -> None:
    owner = await person(101, "Olga")
    bob = await person(102, "BobTheManager")
    ws = await _ws(sessionmaker, owner)

    async with open_dal(sessionmaker) as dal:
        added = await teams.add_manager(dal, owner.id, ws, " @bobthemanager ")
    assert (added.user_id, added.role) == (bob.id, WorkspaceRole.MANAGER)

    async with open_dal(sessionmaker) as dal:
        seen_by_bob = await teams.team(dal, bob.id, ws)
    assert seen_by_bob.workspace.role is WorkspaceRole.MANAGER
    assert [(m.label, m.role) for m in seen_by_bob.members] == [
        ("@Olga", WorkspaceRole.OWNER),
        ("@BobTheManager", WorkspaceRole.MANAGER),
    ]
    assert await _audit(sessionmaker) == [
        ("team.manager_added", owner.id, {"user_id": bob.id, "username": "BobTheManager"})
    ]
    assert notifier.sent == [(102, TEAM_ADDED, {"workspace": "@Olga", "by": "@Olga"})]


async def test_adding_is_refused_with_a_reason_and_changes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    teams: TeamService,
    notifier: RecordingNotifier,
    person: Register,
) -> None:
    owner = await person(111, "owner_a")
    manager = await person(112, "manager_a")
    stranger = await person(113, "stranger_a")
    ws = await _ws(sessionmaker, owner)
    async with open_dal(sessionmaker) as dal:
        await teams.add_manager(dal, owner.id, ws, "manager_a")
    notifier.sent.clear()

    async def problem_of(username: str) -> str:
        async with open_dal(sessionmaker) as dal:
            with pytest.raises(InvalidInput) as caught:
                await teams.add_manager(dal, owner.id, ws, username)
        return str(caught.value.details["problem"])

    assert await problem_of("not a name") == "team_username"
    assert await problem_of("") == "team_username"
    assert await problem_of("@never_started") == "team_not_registered"
    assert await problem_of("@MANAGER_A") == "team_already_member"
    assert await problem_of("owner_a") == "team_owner"
    async with open_dal(sessionmaker) as dal:
        with pytest.raises(Forbidden):
            await teams.add_manager(dal, manager.id, ws, "stranger_a")
        with pytest.raises(NotFound):
            await teams.add_manager(dal, stranger.id, ws, "stranger_a")
        with pytest.raises(NotFound):
            await teams.team(dal, stranger.id, ws)
        assert [m.user_id for m in await dal.list_members(ws)] == [owner.id, manager.id]
    assert [a for a, _, _ in await _audit(sessionmaker)] == ["team.manager_added"]
    assert notifier.sent == []


async def test_a_team_has_a_size_limit(
    sessionmaker: async_sessionmaker[AsyncSession],
    teams: TeamService,
    person: Register,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(teams_module, "MAX_TEAM", 2)
    owner = await person(121, "owner_b")
    await person(122, "first_b")
    await person(123, "second_b")
    ws = await _ws(sessionmaker, owner)
    async with open_dal(sessionmaker) as dal:
        await teams.add_manager(dal, owner.id, ws, "first_b")
        with pytest.raises(InvalidInput) as caught:
            await teams.add_manager(dal, owner.id, ws, "second_b")
    assert caught.value.details == {"field": "username", "problem": "team_full", "max": 2}


async def test_owner_removes_managers_and_managers_only_leave(
    sessionmaker: async_sessionmaker[AsyncSession],
    teams: TeamService,
    notifier: RecordingNotifier,
    person: Register,
) -> None:
    owner = await person(131, "owner_c")
    anna = await person(132, "anna_c")
    boris = await person(133, None)
    ws = await _ws(sessionmaker, owner)
    async with open_dal(sessionmaker) as dal, dal.session.begin():
        dal.session.add(Membership(workspace_id=ws, user_id=boris.id, role=WorkspaceRole.MANAGER))
    async with open_dal(sessionmaker) as dal:
        await teams.add_manager(dal, owner.id, ws, "anna_c")
    notifier.sent.clear()

    async with open_dal(sessionmaker) as dal:
        with pytest.raises(Forbidden):  # a manager removes nobody but themself
            await teams.remove_member(dal, anna.id, ws, boris.id)
        with pytest.raises(Forbidden):
            await teams.remove_by_username(dal, anna.id, ws, "owner_c")
        with pytest.raises(InvalidInput) as caught:  # the owner stays, even asking themself
            await teams.remove_member(dal, owner.id, ws, owner.id)
        assert caught.value.details["problem"] == "team_owner"
        with pytest.raises(NotFound):
            await teams.remove_member(dal, owner.id, ws, 999_999)
        with pytest.raises(InvalidInput) as caught:
            await teams.remove_by_username(dal, owner.id, ws, "@nobody_here")
        assert caught.value.details["problem"] == "team_not_member"

    async with open_dal(sessionmaker) as dal:
        removed = await teams.remove_member(dal, owner.id, ws, boris.id)
    assert removed.label == "Nameless"
    async with open_dal(sessionmaker) as dal:
        left = await teams.remove_by_username(dal, anna.id, ws, "@Anna_C")
    assert left.user_id == anna.id

    async with open_dal(sessionmaker) as dal:
        assert [m.user_id for m in await dal.list_members(ws)] == [owner.id]
    assert await _audit(sessionmaker) == [
        ("team.manager_added", owner.id, {"user_id": anna.id, "username": "anna_c"}),
        ("team.manager_removed", owner.id, {"user_id": boris.id, "username": None}),
        ("team.manager_left", anna.id, {"user_id": anna.id, "username": "anna_c"}),
    ]
    assert notifier.sent == [
        (133, TEAM_REMOVED, {"workspace": "@owner_c", "by": "@owner_c"}),
        (131, TEAM_LEFT, {"workspace": "@owner_c", "member": "@anna_c"}),
    ]


async def test_current_workspace_follows_the_choice_while_it_is_still_ones_own(
    sessionmaker: async_sessionmaker[AsyncSession], teams: TeamService, person: Register
) -> None:
    owner = await person(141, "owner_d")
    mira = await person(142, "mira_d")
    team_ws, own_ws = await _ws(sessionmaker, owner), await _ws(sessionmaker, mira)
    async with open_dal(sessionmaker) as dal:
        assert (await current_workspace(dal, mira.id)).id == own_ws
        with pytest.raises(NotFound):  # not hers yet
            await switch_workspace(dal, mira.id, team_ws)
        await teams.add_manager(dal, owner.id, team_ws, "mira_d")
    async with open_dal(sessionmaker) as dal:
        chosen = await switch_workspace(dal, mira.id, team_ws)
    assert (chosen.id, chosen.role) == (team_ws, WorkspaceRole.MANAGER)
    async with open_dal(sessionmaker) as dal:
        assert (await current_workspace(dal, mira.id)).id == team_ws
        await teams.remove_member(dal, owner.id, team_ws, mira.id)
    async with open_dal(sessionmaker) as dal:
        assert (await current_workspace(dal, mira.id)).id == own_ws
    async with sessionmaker() as session:
        assert (
            await session.scalar(select(User.current_workspace_id).where(User.id == mira.id))
            is None
        )
