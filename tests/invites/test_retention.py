"""Retention through the real invite engine and the sandbox: people invited, some leave the
chat (the sandbox's control API), the day and week checks see it with a moved clock, and a
person who left is never invited into that chat again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import text

from core.accounts import build_account_service
from core.errors import NotFound
from core.retention import campaign_retention
from db.dal import open_dal
from db.leases import LeaseStore
from sandbox.server import SandboxServer
from tests.invites.conftest import OWNER_TG, TARGET, Setup, make_audience
from workers.retention import RetentionJob

PEOPLE = list(range(20_001, 20_007))


def job(setup: Setup, owner: str = "worker-r") -> RetentionJob:
    return RetentionJob(
        sessionmaker=setup.sessionmaker,
        gateway=setup.gateway,
        service=build_account_service(setup.settings, None),
        leases=LeaseStore(setup.sessionmaker, owner, ttl_s=30),
        notifier=None,
        retention_days=180,
        pace_s=0,
    )


async def owner_id(setup: Setup) -> int:
    async with open_dal(setup.sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(OWNER_TG)
    assert user is not None
    return user.id


async def leave(sandbox: SandboxServer, user_id: int) -> None:
    url = f"{sandbox.url}/sandbox/world/chats/{TARGET}/leave"
    async with aiohttp.ClientSession() as http, http.post(url, json={"user": user_id}) as r:
        assert r.status == 200, await r.text()


async def figures(setup: Setup, campaign_id: int) -> dict[str, int]:
    async with open_dal(setup.sessionmaker) as dal:
        report = await campaign_retention(dal, await owner_id(setup), setup.ws, campaign_id)
    return report.figures.as_json()


async def ledger(setup: Setup, user_id: int) -> str | None:
    async with setup.sessionmaker() as session:
        value = await session.scalar(
            text("SELECT outcome FROM invite_ledger WHERE chat_id = :c AND tg_user_id = :u"),
            {"c": TARGET, "u": user_id},
        )
    return None if value is None else str(value)


async def invited_campaign(setup: Setup) -> tuple[int, int]:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "lounge people", setup.people(PEOPLE, seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    await setup.engine().run_account(await setup.account(901))
    assert {s for s, _ in (await setup.targets(cid)).values()} == {"invited"}
    return audience, cid


async def test_day_and_week_figures_follow_people_who_leave(setup: Setup) -> None:
    audience, cid = await invited_campaign(setup)
    start = datetime.now(UTC)
    assert await figures(setup, cid) == {
        "added": 6,
        "stayed_day": 0,
        "left_day": 0,
        "pending_day": 6,
        "stayed_week": 0,
        "left_week": 0,
        "pending_week": 6,
    }
    checks = job(setup)
    assert await checks.check_members(start) == {}  # nobody is due yet
    async with SandboxServer(world=setup.world, page=False) as sandbox:
        await leave(sandbox, 20_001)
        await leave(sandbox, 20_002)
        assert await checks.check_members(start + timedelta(hours=23)) == {}
        day = await checks.check_members(start + timedelta(days=1, minutes=1))
        assert day == {"day_stayed": 4, "day_left": 2}
        assert await ledger(setup, 20_001) == "left" and await ledger(setup, 20_003) == "invited"
        await leave(sandbox, 20_003)
        # The day's check is done: nothing more until the week.
        assert await checks.check_members(start + timedelta(days=3)) == {}
        week = await checks.check_members(start + timedelta(days=7, minutes=1))
        assert week == {"week_stayed": 3, "week_left": 1}
        # Someone who leaves after the week is not looked for again.
        await leave(sandbox, 20_004)
        assert await checks.check_members(start + timedelta(days=30)) == {}
    assert await figures(setup, cid) == {
        "added": 6,
        "stayed_day": 4,
        "left_day": 2,
        "pending_day": 0,
        "stayed_week": 3,
        "left_week": 3,
        "pending_week": 0,
    }
    assert await ledger(setup, 20_003) == "left" and await ledger(setup, 20_004) == "invited"
    # Per source audience: the one audience, by name.
    async with open_dal(setup.sessionmaker) as dal:
        report = await campaign_retention(dal, await owner_id(setup), setup.ws, cid)
    assert [(a.audience_id, a.name, a.figures.stayed_week) for a in report.audiences] == [
        (audience, "lounge people", 3)
    ]
    # The member list was read by the account that invited them, one call per round.
    readers = [c.account for c in setup.world.calls("GetParticipantsRequest")]
    assert readers and set(readers) == {901}


async def test_a_person_who_left_is_never_invited_there_again(setup: Setup) -> None:
    _audience, _cid = await invited_campaign(setup)
    start = datetime.now(UTC)
    async with SandboxServer(world=setup.world, page=False) as sandbox:
        await leave(sandbox, 20_001)
    await job(setup).check_members(start + timedelta(days=1, minutes=1))
    assert await ledger(setup, 20_001) == "left"
    # A new campaign of another audience with the same person (and a newcomer) into the chat.
    again = await make_audience(
        setup.sessionmaker, setup.ws, "again", setup.people([20_001, 20_010], seen_by_tg=901)
    )
    before = len(setup.invite_calls())
    cid2 = await setup.campaign(again, "target_group", name="again")
    await setup.engine().run_account(await setup.account(901))
    targets = await setup.targets(cid2)
    assert targets[20_001] == ("skipped", "attempted_before")
    assert targets[20_010] == ("invited", None)
    assert [users for _a, users, _e in setup.invite_calls()[before:]] == [(20_010,)]
    assert 20_001 not in setup.world.chats[TARGET].members


async def test_a_busy_account_defers_the_check_and_a_stranger_sees_nothing(setup: Setup) -> None:
    _audience, cid = await invited_campaign(setup)
    start = datetime.now(UTC)
    # 901 is the only account that resolved the chat; another process holds it.
    other = LeaseStore(setup.sessionmaker, "another-worker", ttl_s=30)
    lease = await other.acquire(setup.accounts[901])
    assert lease is not None
    try:
        assert await job(setup).check_members(start + timedelta(days=1, minutes=1)) == {
            "deferred": 6
        }
    finally:
        await other.release(lease)
    # Deferred for an hour: not looked at sooner, then checked.
    assert await job(setup).check_members(start + timedelta(days=1, minutes=30)) == {}
    assert await job(setup).check_members(start + timedelta(days=1, hours=2)) == {"day_stayed": 6}
    async with open_dal(setup.sessionmaker) as dal:
        from core.dto import TelegramProfile
        from core.users import register

        stranger, _ = await register(dal, TelegramProfile(4243, "stranger2", "S", None, "en"), ())
        await dal.commit()
        mine = (await dal.list_workspaces(stranger.id))[0].id
        for ws in (setup.ws, mine):
            try:
                await campaign_retention(dal, stranger.id, ws, cid)
            except NotFound:
                pass
            else:
                raise AssertionError("a stranger read the campaign's retention")
