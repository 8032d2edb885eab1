"""`/api/v1/parse-tasks` and `/api/v1/audiences`: tasks, steering, members pages, CSV."""

from __future__ import annotations

import csv
import io

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import MemberDTO, WorkspaceRole
from db.dal import open_dal
from db.models import Membership, Workspace
from tests.api.conftest import MakeUser


async def _auth(login, person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    tokens = await login(person)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_create_task_fills_audience_named_after_source(
    api: TestClient, make_user: MakeUser, login
) -> None:  # type: ignore[no-untyped-def]
    auth = await _auth(login, await make_user())
    first = await api.post(
        "/api/v1/parse-tasks", json={"source": "https://t.me/Lounge"}, headers=auth
    )
    assert first.status == 201, await first.text()
    task = await first.json()
    assert task["status"] == "queued" and task["kind"] == "members" and task["priority"] == "normal"
    assert task["progress"] == {"done": 0, "total": None} and task["source"] == "@lounge"
    again = await (
        await api.post(
            "/api/v1/parse-tasks", json={"source": "@lounge", "priority": "high"}, headers=auth
        )
    ).json()
    assert again["audience_id"] == task["audience_id"]
    audiences = await (await api.get("/api/v1/audiences", headers=auth)).json()
    assert [(a["name"], a["size"]) for a in audiences["items"]] == [("@lounge", 0)]
    listed = await (await api.get("/api/v1/parse-tasks", headers=auth)).json()
    assert [t["id"] for t in listed["items"]] == [again["id"], task["id"]]  # newest first


async def test_bad_sources_and_fields_are_clear(
    api: TestClient, make_user: MakeUser, login
) -> None:  # type: ignore[no-untyped-def]
    auth = await _auth(login, await make_user())
    private = await api.post(
        "/api/v1/parse-tasks",
        json={"source": "https://t.me/+AbCdEf123"},
        headers={**auth, "Accept-Language": "ru"},
    )
    assert private.status == 400
    # A private chat needs one of the workspace's accounts to join it; this one has none.
    assert "закрытый чат" in (await private.json())["error"]["message"]
    bad = await api.post(
        "/api/v1/parse-tasks", json={"source": "http://example.com/x"}, headers=auth
    )
    assert "public @username" in (await bad.json())["error"]["message"]
    for body, field in (
        ({"source": "@lounge", "kind": "everything"}, "kind"),
        ({"source": "@lounge", "posts": 0}, "posts"),
        ({"source": "@lounge", "speed": "ludicrous"}, "speed"),
    ):
        resp = await api.post("/api/v1/parse-tasks", json=body, headers=auth)
        message = (await resp.json())["error"]["message"]
        assert resp.status == 400 and message.lower().startswith(field), message


async def test_pause_resume_cancel(api: TestClient, make_user: MakeUser, login) -> None:  # type: ignore[no-untyped-def]
    auth = await _auth(login, await make_user())
    task = await (
        await api.post("/api/v1/parse-tasks", json={"source": "@lounge"}, headers=auth)
    ).json()
    base = f"/api/v1/parse-tasks/{task['id']}"
    assert (await (await api.post(base + "/pause", headers=auth)).json())["status"] == "paused"
    assert (await (await api.post(base + "/pause", headers=auth)).json())["status"] == "paused"
    assert (await (await api.post(base + "/resume", headers=auth)).json())["status"] == "queued"
    cancelled = await (await api.post(base + "/cancel", headers=auth)).json()
    assert cancelled["status"] == "cancelled" and cancelled["finished_at"]
    refused = await api.post(base + "/resume", headers=auth)
    assert refused.status == 400
    stranger = await _auth(login, await make_user())
    assert (await api.get(base, headers=stranger)).status == 404
    assert (await api.post(base + "/pause", headers=stranger)).status == 404


async def _audience_with(sessionmaker: async_sessionmaker[AsyncSession], person, n: int) -> int:  # type: ignore[no-untyped-def]
    async with open_dal(sessionmaker) as dal:
        ws = (await dal.list_workspaces(person.user.id))[0].id
        target = await dal.create_audience(ws, "Imported", None, person.user.id)
        members = [
            MemberDTO(
                10_000 + i,
                f"user_{i}" if i % 2 else None,
                f"N{i}",
                None,
                "recently",
                i % 5 == 0,
                True,
                "@lounge",
            )
            for i in range(n)
        ]
        await dal.add_members(target.id, members, [], "@lounge")
        await dal.commit()
    return target.id


async def test_members_pages_return_everyone_once(
    api: TestClient, make_user: MakeUser, login, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    person = await make_user()
    audience_id = await _audience_with(sessionmaker, person, 257)
    auth = await _auth(login, person)
    seen: list[int] = []
    cursor = ""
    while True:
        page = await (
            await api.get(
                f"/api/v1/audiences/{audience_id}/members?limit=100&cursor={cursor}", headers=auth
            )
        ).json()
        seen += [m["user_id"] for m in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == sorted(set(seen)) and len(seen) == 257
    one = (
        await (
            await api.get(f"/api/v1/audiences/{audience_id}/members?limit=1", headers=auth)
        ).json()
    )["items"][0]
    assert set(one) == {
        "user_id",
        "username",
        "first_name",
        "last_name",
        "last_seen",
        "premium",
        "photo",
        "source",
    }
    assert (await (await api.get(f"/api/v1/audiences/{audience_id}", headers=auth)).json())[
        "size"
    ] == 257


async def test_list_cursors_are_checked_like_every_other_list(
    api: TestClient, make_user: MakeUser, login, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    person = await make_user()
    audience_id = await _audience_with(sessionmaker, person, 3)
    auth = await _auth(login, person)
    await api.post("/api/v1/parse-tasks", json={"source": "@lounge"}, headers=auth)
    for path in (
        "/api/v1/parse-tasks",
        f"/api/v1/audiences/{audience_id}/members",
        "/api/v1/audiences",
    ):
        first = await (await api.get(path, headers=auth)).json()
        assert (
            first["items"]
            and first == await (await api.get(f"{path}?cursor=0", headers=auth)).json()
        ), path
        for bad in ("abc", "-1", str(2**62 + 1)):
            resp = await api.get(f"{path}?cursor={bad}", headers=auth)
            assert resp.status == 400, (path, bad)
            error = (await resp.json())["error"]
            assert (
                error["details"]["field"] == "cursor"
                and error["details"]["problem"] == "integer_range"
            ), error


async def test_csv_round_trip_and_import_report(
    api: TestClient, make_user: MakeUser, login, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    person = await make_user()
    source_id = await _audience_with(sessionmaker, person, 40)
    auth = await _auth(login, person)
    exported = await api.get(f"/api/v1/audiences/{source_id}/export.csv", headers=auth)
    assert exported.status == 200 and exported.headers["Content-Type"].startswith("text/csv")
    text = await exported.text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 40 and rows[0]["user_id"] == "10000"

    task = await (
        await api.post(
            "/api/v1/parse-tasks", json={"source": "@elsewhere", "audience": "Copy"}, headers=auth
        )
    ).json()
    copy_id = task["audience_id"]
    imported = await api.post(
        f"/api/v1/audiences/{copy_id}/import",
        data=text.encode(),
        headers={**auth, "Content-Type": "text/csv"},
    )
    report = await imported.json()
    without_username = sum(1 for r in rows if not r["username"])
    assert report == {
        "audience_id": copy_id,
        "lines": 40,
        "accepted": 40,
        "new_members": 40,
        "new_usernames": 0,
        "errors": [],
        "unreachable": without_username,
    }
    again = await (await api.get(f"/api/v1/audiences/{copy_id}/export.csv", headers=auth)).text()
    assert sorted(again.splitlines()[1:]) == sorted(
        line.replace(",@lounge", ",import") for line in text.splitlines()[1:]
    )

    messy = "@good_name\n12345\n@x!\n-5\n\n@good_name\nanother_one\n"
    form = FormData()
    form.add_field("file", messy.encode(), filename="people.csv", content_type="text/csv")
    report = await (
        await api.post(f"/api/v1/audiences/{copy_id}/import", data=form, headers=auth)
    ).json()
    assert report["lines"] == 6 and report["accepted"] == 3
    assert report["new_members"] == 1 and report["new_usernames"] == 2
    assert report["unreachable"] == 1  # 12345: an id alone cannot be invited
    assert [(e["line"], e["problem"]) for e in report["errors"]] == [
        (3, "bad_username"),
        (4, "bad_user_id"),
    ]
    audience = await (await api.get(f"/api/v1/audiences/{copy_id}", headers=auth)).json()
    assert audience["size"] == 41 and audience["pending_usernames"] == 2

    garbage = await api.post(
        f"/api/v1/audiences/{copy_id}/import",
        data=b"\xff\xfe\x00bad",
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert garbage.status == 400 and "UTF-8" in (await garbage.json())["error"]["message"]


async def test_only_the_owner_deletes_an_audience(
    api: TestClient, make_user: MakeUser, login, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    owner, manager = await make_user(), await make_user()
    audience_id = await _audience_with(sessionmaker, owner, 3)
    async with sessionmaker() as s, s.begin():
        ws = await s.scalar(select(Workspace.id).where(Workspace.owner_id == owner.user.id))
        s.add(Membership(workspace_id=ws, user_id=manager.user.id, role=WorkspaceRole.MANAGER))
    as_manager = await _auth(login, manager)
    refused = await api.delete(
        f"/api/v1/audiences/{audience_id}?workspace_id={ws}", headers=as_manager
    )
    assert refused.status == 403
    as_owner = await _auth(login, owner)
    assert (await api.delete(f"/api/v1/audiences/{audience_id}", headers=as_owner)).status == 200
    assert (await api.get(f"/api/v1/audiences/{audience_id}", headers=as_owner)).status == 404


async def test_members_filters_are_applied_by_the_server(
    api: TestClient, make_user: MakeUser, login, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    person = await make_user()
    audience_id = await _audience_with(
        sessionmaker, person, 257
    )  # odd: a username; every 5th: premium
    auth = await _auth(login, person)
    base = f"/api/v1/audiences/{audience_id}/members"

    async def ids(query: str) -> list[int]:
        found: list[int] = []
        cursor = ""
        while True:
            page = await (
                await api.get(f"{base}?limit=100&cursor={cursor}&{query}", headers=auth)
            ).json()
            found += [m["user_id"] for m in page["items"]]
            if page["next_cursor"] is None:
                return found
            cursor = page["next_cursor"]

    assert await ids("username=1") == [10_000 + i for i in range(257) if i % 2]
    assert await ids("premium=true") == [10_000 + i for i in range(257) if i % 5 == 0]
    assert await ids("username=1&premium=1") == [10_000 + i for i in range(257) if i % 10 == 5]
    # Text: in the username (an underscore is a character, not a wildcard), the name, or the id.
    assert await ids("q=@user_12") == [10_121, 10_123, 10_125, 10_127, 10_129]
    assert await ids("q=n100") == [10_100]
    assert await ids("q=10005") == [10_005]
    assert await ids("last_seen=recently&photo=1") == [10_000 + i for i in range(257)]
    assert await ids("last_seen=online") == []
    for query, problem in (
        ("last_seen=yesterday", "last_seen"),
        ("premium=yes", "flag"),
        ("q=" + "x" * 65, "member_query"),
    ):
        refused = await api.get(f"{base}?{query}", headers=auth | {"Accept-Language": "ru"})
        assert refused.status == 400, query
        error = (await refused.json())["error"]
        assert error["details"]["problem"] == problem
        assert "Неверный запрос" not in error["message"] and "{" not in error["message"]
        assert error["message"].endswith(".") and "{" not in error["message"], error


async def test_a_name_that_reads_as_a_formula_is_quoted_and_comes_back_unchanged(
    api: TestClient, make_user: MakeUser, login, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    """OWASP's CSV injection: a spreadsheet would run `=…`, `+…`, `-…`, `@…` as a formula.
    The export writes such a name with a leading `'`; the import takes it off again."""
    person = await make_user()
    source_id = await _audience_with(sessionmaker, person, 3)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("""UPDATE audience_members SET first_name = '=HYPERLINK("http://x")',
                           last_name = '-2+3' WHERE audience_id = :a AND tg_user_id = 10000"""),
            {"a": source_id},
        )
    auth = await _auth(login, person)
    exported = await (
        await api.get(f"/api/v1/audiences/{source_id}/export.csv", headers=auth)
    ).text()
    row = next(r for r in csv.DictReader(io.StringIO(exported)) if r["user_id"] == "10000")
    assert (row["first_name"], row["last_name"]) == ('\'=HYPERLINK("http://x")', "'-2+3")
    assert row["username"] == "" or not row["username"].startswith("'")

    task = await (
        await api.post(
            "/api/v1/parse-tasks", json={"source": "@elsewhere", "audience": "Back"}, headers=auth
        )
    ).json()
    await api.post(
        f"/api/v1/audiences/{task['audience_id']}/import",
        data=exported.encode(),
        headers={**auth, "Content-Type": "text/csv"},
    )
    async with sessionmaker() as session:
        names = (
            await session.execute(
                text("""SELECT first_name, last_name FROM audience_members
                         WHERE audience_id = :a AND tg_user_id = 10000"""),
                {"a": task["audience_id"]},
            )
        ).one()
    assert tuple(names) == ('=HYPERLINK("http://x")', "-2+3")
