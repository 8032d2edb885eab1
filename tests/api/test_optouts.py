"""`/api/v1/opt-outs`: the owner keeps the workspace's list (one by one and by CSV), managers
read it, and the installation's list (people who sent the bot /optout) is nobody else's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import optouts
from db.dal import open_dal
from db.dal_optouts import OptOutDal
from db.models import AuditEvent, OptOut
from tests.api.conftest import MakeUser, Person
from tests.api.test_team import Team, bearer
from tests.api.test_team import team as team
from tests.invites.conftest import make_audience

Login = Callable[[Person], Awaitable[dict[str, str]]]
BASE = "/api/v1/opt-outs"


async def _listed(sessionmaker: async_sessionmaker[AsyncSession], ws: int) -> dict[int, str | None]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(OptOut).where(OptOut.workspace_id == ws))
        return {r.tg_user_id: r.reason for r in rows}


async def test_owner_adds_and_removes_managers_read_and_are_refused(
    api: TestClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # An audience of the workspace knows @Known_Person: the owner may name them by username.
    await make_audience(sessionmaker, team.ws, "Known", [(41_002, "Known_Person", None, None)])
    added = await api.post(BASE, json={"user_id": 41_001}, headers=team.as_owner)
    assert added.status == 201, await added.text()
    assert await added.json() == {"user_id": 41_001, "added": True}
    again = await api.post(BASE, json={"user_id": 41_001}, headers=team.as_owner)
    assert await again.json() == {"user_id": 41_001, "added": False}
    by_name = await api.post(BASE, json={"username": "@known_person"}, headers=team.as_owner)
    assert await by_name.json() == {"user_id": 41_002, "added": True}

    unknown = await api.post(BASE, json={"username": "@nobody_here"}, headers=team.as_owner)
    assert unknown.status == 400
    error = (await unknown.json())["error"]
    assert (
        error["code"] == "invalid_input"
        and error["details"]["problem"] == "optout_unknown_username"
    )
    assert "@nobody_here" in error["message"] and "Telegram id" in error["message"]
    for bad in (
        {},
        {"user_id": 1, "username": "@known_person"},
        {"user_id": 0},
        {"username": "a b"},
    ):
        resp = await api.post(BASE, json=bad, headers=team.as_owner)
        assert resp.status == 400, (bad, await resp.text())
        assert set((await resp.json())["error"]) == {"code", "message", "trace_id", "details"}

    # A manager reads the list (with the username an audience knows) but may not change it.
    listed = await api.get(BASE, headers=team.as_manager)
    assert listed.status == 200
    body = await listed.json()
    assert body["total"] == 2 and body["next_cursor"] is None
    assert [(i["user_id"], i["username"], i["reason"]) for i in body["items"]] == [
        (41_001, None, "owner"),
        (41_002, "Known_Person", "owner"),
    ]
    refused = await api.post(BASE, json={"user_id": 41_003}, headers=team.as_manager)
    assert refused.status == 403
    error = (await refused.json())["error"]
    assert error["code"] == "forbidden" and set(error) == {"code", "message", "trace_id", "details"}
    assert (await api.delete(f"{BASE}/41001", headers=team.as_manager)).status == 403
    # A stranger does not even learn the workspace exists.
    assert (await api.get(BASE, headers=team.as_stranger)).status == 404
    assert await _listed(sessionmaker, team.ws) == {41_001: "owner", 41_002: "owner"}

    assert (await api.delete(f"{BASE}/41001", headers=team.as_owner)).status == 204
    gone = await api.delete(f"{BASE}/41001", headers=team.as_owner)
    assert gone.status == 404 and (await gone.json())["error"]["code"] == "not_found"
    assert await _listed(sessionmaker, team.ws) == {41_002: "owner"}
    async with sessionmaker() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.workspace_id == team.ws, AuditEvent.action.like("optout.%"))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["optout.added", "optout.added", "optout.removed"]

    # Pages by Telegram id.
    first = await (await api.get(BASE + "?limit=1", headers=team.as_owner)).json()
    assert [i["user_id"] for i in first["items"]] == [41_002] and first["next_cursor"] is None


async def test_the_installation_list_is_not_the_owners_to_change(
    api: TestClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with open_dal(sessionmaker) as dal:
        await optouts.opt_out_everywhere(
            OptOutDal(dal.session), 41_100, source=optouts.SOURCE_COMMAND
        )
    # Not on the workspace's list, so nothing to remove; the person stays out everywhere.
    resp = await api.delete(f"{BASE}/41100", headers=team.as_owner)
    assert resp.status == 404
    async with open_dal(sessionmaker) as dal:
        assert await OptOutDal(dal.session).global_opt_out_since(41_100) is not None


async def test_csv_round_trip_with_bad_lines_by_number(
    api: TestClient, team: Team, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_audience(sessionmaker, team.ws, "Known", [(42_005, "csv_known", None, None)])
    data = (
        b"user_id,username\n"  # line 1: the header
        b"42001,\n"  # 2
        b"abc,\n"  # 3: not an id
        b",@csv_known\n"  # 4: known to an audience
        b"\n"  # 5: blank, skipped
        b",@csv_stranger\n"  # 6: no audience has it
        b"42002,\n"  # 7
        b"42001,\n"  # 8: twice is once
    )
    refused = await api.post(
        BASE + "/import", data=data, headers=team.as_manager | {"Content-Type": "text/csv"}
    )
    assert refused.status == 403
    resp = await api.post(
        BASE + "/import", data=data, headers=team.as_owner | {"Content-Type": "text/csv"}
    )
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert report == {
        "lines": 6,
        "accepted": 3,
        "added": 3,
        "errors": [
            {"line": 3, "value": "abc", "problem": "bad_person"},
            {"line": 6, "value": "csv_stranger", "problem": "unknown_username"},
        ],
    }
    assert await _listed(sessionmaker, team.ws) == {
        42_001: "import",
        42_002: "import",
        42_005: "import",
    }

    exported = await api.get(BASE + "/export.csv", headers=team.as_manager)
    assert exported.status == 200 and exported.headers["Content-Type"].startswith("text/csv")
    text = await exported.text()
    lines = text.splitlines()
    assert lines[0] == "user_id,username,reason,created_at"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["42001", "", "import"],
        ["42002", "", "import"],
        ["42005", "csv_known", "import"],
    ]

    # The export reads back as an import: the same people, no bad lines.
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(OptOut).where(OptOut.workspace_id == team.ws))
    again = await api.post(
        BASE + "/import", data=text.encode(), headers=team.as_owner | {"Content-Type": "text/csv"}
    )
    assert (await again.json())["errors"] == [] and (await again.json())["added"] == 3

    broken = await api.post(BASE + "/import", data=b'user_id\n"42003\n', headers=team.as_owner)
    assert broken.status == 400
    assert (await broken.json())["error"]["details"]["problem"] == "csv_syntax"


async def test_another_workspace_owner_cannot_touch_the_list(
    api: TestClient, team: Team, make_user: MakeUser, login: Login
) -> None:
    outsider = await make_user("outsider_o")
    as_outsider = bearer(await login(outsider), team.ws)
    assert (await api.post(BASE, json={"user_id": 43_001}, headers=as_outsider)).status == 404
    # In their own workspace they are the owner.
    own = bearer(await login(outsider))
    assert (await api.post(BASE, json={"user_id": 43_001}, headers=own)).status == 201
