"""A campaign's next attempt (`core.schedule`, the panel's "next attempt") is when the real
engine, run on the in-process world, decides to look again: after an account's pause, and
after its day's quota at the start of the active hours."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core.campaign_service import public_counts
from core.campaigns import in_active_hours, next_active_start
from core.limits import next_day
from core.schedule import campaign_schedule
from db.dal import open_dal
from db.dal_history import HistorySql
from db.dal_invites import InviteDal
from tests.invites.conftest import FAST, Setup, make_audience
from workers.inviting import InviteConfig

PAUSE_S = 600


async def _campaign(setup: Setup, ids: range, *, hours: tuple[int, int] | None = None) -> int:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "next", setup.people(ids, seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    # Only account 901 may invite (as a pre-flight would have found): the plan and the engine
    # look at the same one account.
    preflight = {"eligible": [setup.accounts[901]], "unchecked": [], "to_invite": len(ids)}
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                """UPDATE campaigns SET preflight = CAST(:p AS jsonb), active_from_hour = :f,
                                        active_to_hour = :t WHERE id = :c"""
            ),
            {
                "p": json.dumps(preflight),
                "f": hours[0] if hours else None,
                "t": hours[1] if hours else None,
                "c": cid,
            },
        )
    return cid


async def _plan(setup: Setup, cid: int, config: InviteConfig) -> datetime | None:
    async with open_dal(setup.sessionmaker) as dal:
        campaign = await dal.campaign_view(setup.ws, cid)
        assert campaign is not None
        counts = public_counts(await dal.counts(cid))
        plan = await campaign_schedule(
            dal, HistorySql(dal.session), campaign, counts, config.limits
        )
    return plan.next_attempt_at


async def test_the_next_attempt_is_when_the_engine_looks_again_after_a_pause(
    setup: Setup,
) -> None:
    cid = await _campaign(setup, range(50_001, 50_004))
    config = InviteConfig(limits=replace(FAST, pause_min_s=PAUSE_S, pause_max_s=PAUSE_S))
    before = await _plan(setup, cid, config)
    assert before is not None and abs((before - datetime.now(UTC)).total_seconds()) < 2

    engine = setup.engine(config)
    account = await setup.account(901)
    assert await engine.run_account(account) == "waiting"  # one invite, then its pause
    assert len(setup.invite_calls()) == 1
    engine_next = engine._resume_at[account.id]
    planned = await _plan(setup, cid, config)
    assert planned is not None
    assert abs((planned - engine_next).total_seconds()) < 0.01, (planned, engine_next)
    assert (
        timedelta(seconds=PAUSE_S - 5) < planned - datetime.now(UTC) <= timedelta(seconds=PAUSE_S)
    )

    # The engine's tick agrees: it does not start the account before that time.
    await engine.tick()
    assert account.id not in engine._tasks and len(setup.invite_calls()) == 1


async def test_after_the_days_quota_the_next_attempt_is_the_next_days_active_hours(
    setup: Setup,
) -> None:
    now = datetime.now(UTC)
    # Active now, and tomorrow from the same hour: the quota, not the hours, stops it today.
    hours = (now.hour, (now.hour + 2) % 24)
    cid = await _campaign(setup, range(50_101, 50_104), hours=hours)
    config = InviteConfig(limits=replace(FAST, daily_per_account=1), pause_scale=0)
    engine = setup.engine(config)
    account = await setup.account(901)
    await engine.run_account(account)
    assert len(setup.invite_calls()) == 1
    # The engine first waits for the next UTC day; asked then, for the start of the active
    # hours (unless the window starts at midnight).
    first = engine._resume_at[account.id]
    assert first == next_day(now)
    async with setup.sessionmaker() as session:
        rows = await InviteDal(session).working_campaigns(setup.ws)
    fresh = await setup.account(901)
    if in_active_hours(first, *hours):  # a window that starts at midnight
        assert await engine._has_work_now(fresh, rows, first)
        engine_next = first
    else:
        assert not await engine._has_work_now(fresh, rows, first)
        engine_next = engine._resume_at[account.id]
        assert engine_next == next_active_start(first, *hours) > first
    assert await _plan(setup, cid, config) == engine_next
