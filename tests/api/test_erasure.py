"""Erasing one person: through the API on data the real invite engine made on the sandbox,
nothing of them is left in any table holding a Telegram id or a username but one opt-out
entry; the next campaign skips them; managers may not; the audit entry names nobody. Also
`GET /api/v1/campaigns/{id}/retention` and the collectors keeping no phones or bios."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import TelegramProfile
from core.settings import Settings
from core.users import register
from db.dal import open_dal
from tests.api.conftest import Person
from tests.invites.conftest import OWNER_TG, Setup, build_setup, make_audience

ERIN, OTHER = 30_001, 30_002
Login = Callable[[Person], Awaitable[dict[str, str]]]


async def owner(setup: Setup) -> Person:
    async with open_dal(setup.sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(OWNER_TG)
    assert user is not None
    return Person(user=user, username="boss")


def headers(tokens: dict[str, str], ws: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}", "X-Workspace-Id": str(ws)}


async def traces(
    sessionmaker: async_sessionmaker[AsyncSession], tg_id: int, username: str
) -> dict[str, int]:
    """Rows naming the person, per table: every column called tg_user_id, username or
    username_lower in the schema (found, not listed by hand), and audit details."""
    found: dict[str, int] = {}
    async with sessionmaker() as session:
        columns = (
            await session.execute(
                text(
                    """SELECT table_name, column_name FROM information_schema.columns
                WHERE table_schema = 'public' AND column_name IN ('tg_user_id', 'username', 'username_lower')"""
                )
            )
        ).all()
        assert {
            "audience_members",
            "campaign_targets",
            "invite_ledger",
            "invite_events",
            "opt_outs",
            "retention_checks",
        } <= {c.table_name for c in columns}
        for table, column in columns:
            value: int | str
            if column == "tg_user_id":
                where, value = f"{column} = :v", tg_id
            else:
                where, value = f"lower({column}) = :v", username
            n = int(
                await session.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE {where}"), {"v": value}
                )
                or 0
            )
            if n:
                found[f"{table}.{column}"] = n
        audit = int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM audit_log WHERE details::text LIKE :i OR lower(details::text) LIKE :u"
                ),
                {"i": f"%{tg_id}%", "u": f"%{username}%"},
            )
            or 0
        )
        if audit:
            found["audit_log"] = audit
    return found


async def test_erasure_leaves_only_the_opt_out(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    api: TestClient,
    login: Login,
) -> None:
    setup = await build_setup(sessionmaker, settings)
    people = setup.people([ERIN, OTHER], seen_by_tg=901)
    people[0] = (ERIN, "Erin_X", people[0][2], people[0][3])
    first = await make_audience(sessionmaker, setup.ws, "first", people)
    second = await make_audience(sessionmaker, setup.ws, "second", [people[0]])
    names_only = await make_audience(sessionmaker, setup.ws, "names", [])
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("""INSERT INTO audience_usernames (audience_id, username_lower, username)
                                       VALUES (:a, 'erin_x', 'Erin_X')"""),
            {"a": names_only},
        )
    cid = await setup.campaign(first, "target_group")
    await setup.engine().run_account(await setup.account(901))
    assert (await setup.targets(cid))[ERIN] == ("invited", None)
    cid2 = await setup.campaign(second, "target_group", name="again")  # Erin skipped there
    async with open_dal(sessionmaker) as dal:  # an earlier opt-out by hand, removed since
        await dal.audit("optout.added", workspace_id=setup.ws, details={"tg_user_id": ERIN})
        await dal.commit()
    before = await traces(sessionmaker, ERIN, "erin_x")
    assert {
        "audience_members.tg_user_id",
        "campaign_targets.tg_user_id",
        "invite_ledger.tg_user_id",
        "invite_events.tg_user_id",
        "retention_checks.tg_user_id",
        "audience_usernames.username_lower",
        "audit_log",
    } <= set(before)

    boss = await login(await owner(setup))
    # A manager of the workspace may not erase; a bad person is a 400 in words.
    async with open_dal(sessionmaker) as dal:
        mila, _ = await register(dal, TelegramProfile(31_000, "mila", "Mila", None, "en"), ())
        await dal.commit()
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO memberships (workspace_id, user_id, role) VALUES (:w, :u, 'manager')"
            ),
            {"w": setup.ws, "u": mila.id},
        )
    manager = await login(Person(user=mila, username="mila"))
    refused = await api.post(
        "/api/v1/erasures", json={"person": "@erin_x"}, headers=headers(manager, setup.ws)
    )
    assert refused.status == 403
    bad = await api.post(
        "/api/v1/erasures", json={"person": "erin x!"}, headers=headers(boss, setup.ws)
    )
    assert bad.status == 400
    assert (await bad.json())["error"]["details"]["problem"] == "erase_person"

    answer = await api.post(
        "/api/v1/erasures", json={"person": "@Erin_X"}, headers=headers(boss, setup.ws)
    )
    assert answer.status == 201, await answer.text()
    body: dict[str, Any] = await answer.json()
    assert body["people"] == 1 and body["opted_out"] is True
    removed = body["removed"]
    assert removed["audience_members"] == 2 and removed["audience_usernames"] == 1
    assert removed["campaign_targets"] == 2 and removed["invite_ledger"] == 1
    assert (
        removed["retention_checks"] == 1
        and removed["invite_events"] >= 1
        and removed["audit_log"] == 1
    )
    assert await traces(sessionmaker, ERIN, "erin_x") == {"opt_outs.tg_user_id": 1}
    # The other person is untouched, sizes follow, the events still count for the account.
    assert (await setup.targets(cid))[OTHER] == (
        "invited",
        None,
    ) and ERIN not in await setup.targets(cid2)
    async with sessionmaker() as session:
        sizes: dict[str, int] = dict(
            (await session.execute(text("SELECT name, size FROM audiences"))).all()
        )
        anonymous = await session.scalar(
            text("SELECT count(*) FROM invite_events WHERE tg_user_id = 0")
        )
        entry = (
            await session.execute(
                text("SELECT details FROM audit_log WHERE action = 'person.erased'")
            )
        ).scalar_one()
    assert sizes["second"] == 0 and anonymous == removed["invite_events"]
    assert entry["people"] == 1 and "erin" not in str(entry).lower() and str(ERIN) not in str(entry)
    # Collected again later: the next campaign skips them as opted out.
    again = await make_audience(
        sessionmaker, setup.ws, "again", setup.people([ERIN], seen_by_tg=901)
    )
    cid3 = await setup.campaign(again, "target_group", name="third")
    assert (await setup.targets(cid3))[ERIN] == ("skipped", "opted_out")

    # Retention of the first campaign: one person added is left (Erin's row went with her).
    retention = await api.get(f"/api/v1/campaigns/{cid}/retention", headers=headers(boss, setup.ws))
    assert retention.status == 200
    figures = (await retention.json())["figures"]
    assert figures["added"] == 1 and figures["pending_day"] == 1
    foreign = await api.get("/api/v1/campaigns/999999/retention", headers=headers(boss, setup.ws))
    assert foreign.status == 404


async def test_erasing_someone_known_by_username_only(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    api: TestClient,
    login: Login,
) -> None:
    setup = await build_setup(sessionmaker, settings)
    names_only = await make_audience(sessionmaker, setup.ws, "names", [])
    async with sessionmaker() as session, session.begin():
        await session.execute(
            text("""INSERT INTO audience_usernames (audience_id, username_lower, username)
                                       VALUES (:a, 'ghosty', 'Ghosty')"""),
            {"a": names_only},
        )
    boss = await login(await owner(setup))
    answer = await api.post(
        "/api/v1/erasures", json={"person": "ghosty"}, headers=headers(boss, setup.ws)
    )
    assert answer.status == 201
    body = await answer.json()
    assert (
        body["people"] == 0
        and body["opted_out"] is False
        and body["removed"]["audience_usernames"] == 1
    )
    assert await traces(sessionmaker, 987_654_321, "ghosty") == {}
