"""Member search (`q` of `GET /api/v1/audiences/{id}/members`) served by indexes.

A fragment of a username or name is found anywhere in it, in any case, through the trigram
index `ix_audience_members_search` over the stored, lower-cased `search_text` (the DAL's
condition is on that column, so PostgreSQL can use it); digits are a Telegram id, matched
exactly on the primary key.
"""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audiences import MemberQuery
from core.dto import MemberDTO
from db.dal import open_dal
from db.dal_audiences import _member_conditions
from db.driver import fetch
from tests.api.bodies import conforming
from tests.api.conftest import MakeUser
from tests.api.test_audiences import _auth
from webui_api.schemas import MemberList

NAMES = ["Anna", "Boris", "Clara", "Denis", "Elena"]


async def _audience(sessionmaker: async_sessionmaker[AsyncSession], person, n: int) -> int:  # type: ignore[no-untyped-def]
    async with open_dal(sessionmaker) as dal:
        ws = (await dal.list_workspaces(person.user.id))[0].id
        target = await dal.create_audience(ws, "Big", None, person.user.id)
        members = [
            MemberDTO(
                1_000_000 + i,
                f"member{i}" if i % 3 else None,
                NAMES[i % 5],
                "Zyxwvut" if i == 1234 else "ПРИВЕТ Ёжик" if i == 2001 else f"L{i}",
                "recently",
                False,
                False,
                None,
            )
            for i in range(n)
        ]
        await dal.add_members(target.id, members, [], None)
        await dal.commit()
    return target.id


async def test_q_finds_fragments_and_ids(
    api: TestClient, make_user: MakeUser, login, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    person = await make_user()
    audience_id = await _audience(sessionmaker, person, 3000)
    auth = await _auth(login, person)

    async def ids(q: str) -> list[int]:
        found: list[int] = []
        cursor = ""
        while True:
            resp = await api.get(
                f"/api/v1/audiences/{audience_id}/members",
                params={"limit": "100", "cursor": cursor, "q": q},
                headers=auth,
            )
            page = await conforming(resp, MemberList)
            found += [m["user_id"] for m in page["items"]]
            if page["next_cursor"] is None:
                return found
            cursor = page["next_cursor"]

    assert await ids("yxwv") == [1_001_234]  # inside the last name, any case
    assert await ids("ZYXWVUT") == [1_001_234]
    assert await ids("привет ёЖ") == [1_002_001]  # any script's case
    assert await ids("@member2999") == [1_002_999]  # the username, with or without @
    assert await ids("ber299") == [1_000_000 + i for i in (299, *range(2990, 3000)) if i % 3]
    assert await ids("anna l2995") == [1_002_995]  # first and last name together
    assert await ids("1001234") == [1_001_234]  # digits: the id, exactly
    assert await ids("100123") == []  # not a fragment of ids
    assert await ids("9" * 30) == []  # beyond any id: nothing, not an error
    assert await ids("zz_z%") == []  # LIKE's wildcards are characters
    assert len(await ids("clara")) == 600


async def test_the_search_uses_its_indexes(
    api: TestClient, make_user: MakeUser, login, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    person = await make_user()
    await _audience(sessionmaker, person, 2000)

    async def plan(session: AsyncSession, q: str) -> str:
        """EXPLAIN of the members query's conditions, with their values (as the API runs it)."""
        args: list[object] = []
        where = " AND ".join(_member_conditions(MemberQuery.parse(q, None), args))
        sql = f"EXPLAIN SELECT tg_user_id FROM audience_members WHERE {where}"
        return "\n".join(r[0] for r in await fetch(session, sql, *args))

    async with sessionmaker() as session, session.begin():
        await session.execute(text("ANALYZE audience_members"))
        # Without the sequential scan to fall back on, only an index that matches the
        # condition's expression can answer (on a small table PostgreSQL would rather scan;
        # bench/api_scale.py shows what it picks on a million).
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        rare = await plan(session, "yxwv")
        assert "ix_audience_members_search" in rare and "'%yxwv%'" in rare, rare
        numeric = await plan(session, "1000777")
        assert (
            "ix_audience_members_search" not in numeric
            and "tg_user_id = '1000777'::bigint" in numeric
        ), numeric
