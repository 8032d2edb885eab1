"""A target chat's daily cap across all of a workspace's accounts, and a campaign's own limits,
through the real engine on the in-process world."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

from sqlalchemy import text

from core.limits import InviteLimits, campaign_limits, check_campaign_limits
from db.dal_invites import InviteDal
from db.leases import LeaseStore
from tests.invites.conftest import FAST, TARGET, Setup, make_audience
from workers.inviting import InviteConfig, InviteEngine

PER_TARGET = 7


async def _more_inviters(setup: Setup, ids: list[int]) -> None:
    """Link more accounts and let each add people to the target chat."""
    from tests.invites.conftest import link_accounts

    _, more = await link_accounts(
        setup.world, setup.gateway, setup.sessionmaker, setup.settings, ids
    )
    setup.accounts.update(more)
    chat = setup.world.find_chat(TARGET)
    for tg_id in ids:
        chat.admins[tg_id] = frozenset({"invite_users"})


async def _sent_today(setup: Setup) -> int:
    async with setup.sessionmaker() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT coalesce(sum(sent), 0) FROM target_day_counts WHERE workspace_id = :ws AND chat_id = :c"
                ),
                {"ws": setup.ws, "c": TARGET},
            )
            or 0
        )


async def test_the_chats_daily_cap_holds_across_accounts_and_workers(setup: Setup) -> None:
    await _more_inviters(setup, [904, 905, 906, 907])
    inviters = [901, 902, 904, 905, 906, 907]
    ids = list(range(31_001, 31_031))
    people = [
        p
        for n, tg in enumerate(inviters)
        for p in setup.people(ids[n :: len(inviters)], seen_by_tg=tg)
    ]
    audience = await make_audience(setup.sessionmaker, setup.ws, "many", people)
    cid = await setup.campaign(audience, "target_group")
    limits = replace(FAST, daily_per_target=PER_TARGET)
    # Three "workers", each with its own lease owner, working two accounts each at once.
    engines = [
        InviteEngine(
            sessionmaker=setup.sessionmaker,
            gateway=setup.gateway,
            service=setup.engine().service,
            leases=LeaseStore(setup.sessionmaker, f"worker-{n}", ttl_s=30),
            config=InviteConfig(limits=limits, pause_scale=0),
        )
        for n in range(3)
    ]
    accounts = [await setup.account(tg) for tg in inviters]
    results = await asyncio.gather(*(engines[n % 3].run_account(a) for n, a in enumerate(accounts)))

    calls = setup.invite_calls()
    assert len(calls) == PER_TARGET, results
    assert len({u for _, users, _ in calls for u in users}) == PER_TARGET
    targets = Counter(s for s, _ in (await setup.targets(cid)).values())
    assert targets == {"invited": PER_TARGET, "pending": len(ids) - PER_TARGET}
    assert await _sent_today(setup) == PER_TARGET
    assert await setup.status(cid) == "running"
    # Each account now knows it must wait for tomorrow, without connecting to find out.
    async with setup.sessionmaker() as session:
        usage = await InviteDal(session).usage(
            setup.accounts[901], TARGET, (await _day_start(setup)), setup.ws
        )
    assert usage.today_in_target == PER_TARGET


async def _day_start(setup: Setup):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from core.limits import day_start

    return day_start(datetime.now(UTC))


async def test_a_claim_that_spent_no_quota_gives_its_place_back(setup: Setup) -> None:
    ids = list(range(32_001, 32_006))
    # Known by username, so that any account can name them.
    setup.world.put_users(
        [{"id": i, "first_name": f"P{i}", "username": f"person_{i}"} for i in ids]
    )
    people = [(i, f"person_{i}", None, None) for i in ids]
    audience = await make_audience(setup.sessionmaker, setup.ws, "few", people)
    cid = await setup.campaign(audience, "target_group")
    # The first call is answered with a flood wait: no quota spent, the place goes back.
    setup.world.add_fault("InviteToChannelRequest", "FLOOD_WAIT_60", 1, account=901)
    engine = setup.engine(InviteConfig(limits=replace(FAST, daily_per_target=3), pause_scale=0))
    assert await engine.run_account(await setup.account(901)) == "flood"
    assert await _sent_today(setup) == 0
    # Another account goes on and is stopped by the cap alone.
    assert await engine.run_account(await setup.account(902)) in ("idle", "waiting")
    assert Counter(s for s, _ in (await setup.targets(cid)).values()) == {
        "invited": 3,
        "pending": 2,
    }
    assert await _sent_today(setup) == 3


async def test_a_campaigns_own_limits_are_kept_and_never_looser(setup: Setup) -> None:
    installation = replace(FAST, daily_per_account=10, pause_min_s=1, pause_max_s=1)
    own = check_campaign_limits({"daily_per_account": 2}, installation)
    assert own == {"daily_per_account": 2}
    ids = list(range(33_001, 33_011))
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "own", setup.people(ids, seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE campaigns SET limits = CAST(:l AS jsonb) WHERE id = :c"),
            {"l": '{"daily_per_account": 2}', "c": cid},
        )
    engine = setup.engine(InviteConfig(limits=installation, pause_scale=0))
    assert await engine.run_account(await setup.account(901)) in ("idle", "waiting")
    assert len(setup.invite_calls()) == 2
    # Stored limits looser than the installation's (written before an admin lowered them)
    # are still held to the installation's.
    looser = campaign_limits(
        {"daily_per_account": 500, "pause_max_s": 1}, replace(installation, pause_max_s=5)
    )
    assert looser.daily_per_account == 10 and looser.pause_max_s == 5
    assert InviteLimits().daily_per_target == 60
