"""`/api/v1/workspace/members`: the owner manages the team, managers work in it, strangers see nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.settings import Settings
from core.telegram import AccountInfo
from db.dal import open_dal
from db.models import Audience, AuditEvent, Membership, TelegramAccount
from tests.api.conftest import MakeUser, Person

Login = Callable[[Person], Awaitable[dict[str, str]]]
MEMBERS = "/api/v1/workspace/members"


@dataclass
class Team:
    owner: Person
    manager: Person
    stranger: Person
    ws: int
    as_owner: dict[str, str]
    as_manager: dict[str, str]
    as_stranger: dict[str, str]


def bearer(tokens: dict[str, str], workspace_id: int | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    if workspace_id is not None:
        headers["X-Workspace-Id"] = str(workspace_id)
    return headers


@pytest.fixture
async def team(
    api: TestClient,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Team:
    """An owner who has added `manager` through the API, and a stranger; all logged in."""
    owner, manager, stranger = (
        await make_user("owner_t"),
        await make_user("Manager_T"),
        await make_user("stranger_t"),
    )
    async with open_dal(sessionmaker) as dal:
        ws = (await dal.list_workspaces(owner.user.id))[0].id
    as_owner = bearer(await login(owner))
    added = await api.post(MEMBERS, json={"username": "@manager_t"}, headers=as_owner)
    assert added.status == 201, await added.text()
    assert await added.json() == {
        "user_id": manager.user.id,
        "username": "Manager_T",
        "first_name": manager.user.first_name,
        "role": "manager",
    }
    return Team(
        owner,
        manager,
        stranger,
        ws,
        as_owner,
        bearer(await login(manager), ws),
        bearer(await login(stranger), ws),
    )


async def _error(resp, status: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert resp.status == status, await resp.text()
    return (await resp.json())["error"]  # type: ignore[no-any-return]


async def test_everyone_in_the_team_sees_it_and_the_change_is_audited(
    api: TestClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    expected = [
        {
            "user_id": team.owner.user.id,
            "username": "owner_t",
            "first_name": team.owner.user.first_name,
            "role": "owner",
        },
        {
            "user_id": team.manager.user.id,
            "username": "Manager_T",
            "first_name": team.manager.user.first_name,
            "role": "manager",
        },
    ]
    for headers in (team.as_owner, team.as_manager):
        resp = await api.get(MEMBERS, headers=headers)
        assert resp.status == 200
        assert await resp.json() == {"items": expected, "next_cursor": None}
    # Without a workspace chosen the manager is in their own, alone.
    own = await (
        await api.get(MEMBERS, headers={"Authorization": team.as_manager["Authorization"]})
    ).json()
    assert [m["user_id"] for m in own["items"]] == [team.manager.user.id]
    async with sessionmaker() as session:
        events = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.actor_user_id, AuditEvent.workspace_id).where(
                    AuditEvent.action.like("team.%")
                )
            )
        ).all()
    assert events == [("team.manager_added", team.owner.user.id, team.ws)]


async def test_the_manager_works_in_the_workspace_but_cannot_remove_its_things(
    api: TestClient, team: Team, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with open_dal(sessionmaker) as dal:
        account, _ = await build_account_service(settings, None).link(
            dal,
            team.owner.user.id,
            team.ws,
            AccountInfo(81_001, "worker_t", "Worker", "+79990081001"),
            "session",
        )
        audience = await dal.create_audience(team.ws, "Leads", None, team.owner.user.id)
        campaign_id = await dal.create_campaign(
            team.ws, "Spring", audience.id, "@some_group", user_id=team.owner.user.id
        )
        await dal.commit()

    for path, expected in (
        ("accounts", account.id),
        ("audiences", audience.id),
        ("campaigns", campaign_id),
    ):
        listed = await (await api.get(f"/api/v1/{path}", headers=team.as_manager)).json()
        assert [i["id"] for i in listed["items"]] == [expected], path

    unlink = await api.delete(f"/api/v1/accounts/{account.id}", headers=team.as_manager)
    assert (await _error(unlink, 403))["code"] == "forbidden"
    delete = await api.delete(f"/api/v1/audiences/{audience.id}", headers=team.as_manager)
    assert (await _error(delete, 403))["code"] == "forbidden"
    async with sessionmaker() as session:
        assert await session.get(TelegramAccount, account.id) is not None
        assert await session.get(Audience, audience.id) is not None


async def test_only_the_owner_manages_the_team(
    api: TestClient, team: Team, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("newcomer_t")
    refused = await api.post(MEMBERS, json={"username": "newcomer_t"}, headers=team.as_manager)
    assert (await _error(refused, 403))["code"] == "forbidden"
    for target in (team.owner.user.id, team.stranger.user.id):
        refused = await api.delete(f"{MEMBERS}/{target}", headers=team.as_manager)
        assert (await _error(refused, 403))["code"] == "forbidden"
    async with sessionmaker() as session:
        members = set(
            await session.scalars(
                select(Membership.user_id).where(Membership.workspace_id == team.ws)
            )
        )
    assert members == {team.owner.user.id, team.manager.user.id}


async def test_a_stranger_learns_nothing(api: TestClient, team: Team) -> None:
    for resp in (
        await api.get(MEMBERS, headers=team.as_stranger),
        await api.post(MEMBERS, json={"username": "stranger_t"}, headers=team.as_stranger),
        await api.delete(f"{MEMBERS}/{team.manager.user.id}", headers=team.as_stranger),
        await api.get("/api/v1/accounts", headers=team.as_stranger),
    ):
        assert (await _error(resp, 404))["code"] == "not_found"


async def test_refusals_say_why(api: TestClient, team: Team) -> None:
    cases = [
        ({"username": "@never_started"}, "team_not_registered"),
        ({"username": "MANAGER_T"}, "team_already_member"),
        ({"username": "owner_t"}, "team_owner"),
        ({"username": "no such name"}, "team_username"),
    ]
    for body, problem in cases:
        error = await _error(await api.post(MEMBERS, json=body, headers=team.as_owner), 400)
        assert error["details"]["problem"] == problem, body  # type: ignore[index]
    error = await _error(
        await api.post(
            MEMBERS,
            json={"username": "@never_started"},
            headers=team.as_owner | {"Accept-Language": "ru"},
        ),
        400,
    )
    assert "отправить боту /start" in str(error["message"])
    assert (await _error(await api.post(MEMBERS, json={}, headers=team.as_owner), 400))[
        "code"
    ] == "invalid_input"
    owner_out = await api.delete(f"{MEMBERS}/{team.owner.user.id}", headers=team.as_owner)
    assert (await _error(owner_out, 400))["details"]["problem"] == "team_owner"  # type: ignore[index]
    await _error(await api.delete(f"{MEMBERS}/{team.stranger.user.id}", headers=team.as_owner), 404)
    await _error(await api.delete(f"{MEMBERS}/abc", headers=team.as_owner), 400)


async def test_a_removed_manager_is_out_at_the_next_request(
    api: TestClient,
    team: Team,
    make_user: MakeUser,
    login: Login,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert (await api.get("/api/v1/accounts", headers=team.as_manager)).status == 200
    removed = await api.delete(f"{MEMBERS}/{team.manager.user.id}", headers=team.as_owner)
    assert removed.status == 204 and await removed.read() == b""
    for path in ("/api/v1/accounts", "/api/v1/audiences", MEMBERS):
        assert (await _error(await api.get(path, headers=team.as_manager), 404))[
            "code"
        ] == "not_found"

    # A manager may leave on their own.
    leaver = await make_user("leaver_t")
    await api.post(MEMBERS, json={"username": "leaver_t"}, headers=team.as_owner)
    as_leaver = bearer(await login(leaver), team.ws)
    assert (await api.delete(f"{MEMBERS}/{leaver.user.id}", headers=as_leaver)).status == 204
    await _error(await api.get(MEMBERS, headers=as_leaver), 404)
    async with sessionmaker() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("team.%"))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == [
        "team.manager_added",
        "team.manager_removed",
        "team.manager_added",
        "team.manager_left",
    ]


async def test_openapi_describes_the_team_routes(api: TestClient) -> None:
    doc = await (await api.get("/api/v1/openapi.json")).json()
    members = doc["paths"][MEMBERS]
    assert set(members) == {"get", "post"}
    assert "201" in members["post"]["responses"] and "403" in members["post"]["responses"]
    removal = doc["paths"][MEMBERS + "/{user_id}"]["delete"]
    assert removal["responses"]["204"] == {"description": "No content"}
    assert {"403", "404"} <= set(removal["responses"])
