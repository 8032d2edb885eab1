"""Campaign counters (`campaign_target_counts`, `campaign_account_counts`) equal a recount.

They are kept by triggers in the statements that write targets and events, so what the
campaign list, page, report and stream show never counts a campaign's rows. Pinned here: a
campaign that goes through every outcome (invited, already a member before and at the call,
each kind of failure, each kind of skip, an account's refusal handed back, an accepted call
that added nobody, a username resolved later) has counters equal to a recount at every
step; writers on several connections add to their own shards; a deleted campaign takes its
counters with it; the migration's backfill gives the same figures as the triggers.
"""

from __future__ import annotations

import asyncio
import importlib
from collections import Counter

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.campaigns import TargetState
from core.installation import LIMITS_KEY
from db.dal_invites import InviteDal
from tests.invites.conftest import Notices, Setup, make_audience
from tests.invites.test_refusals import engine_for


async def recount(
    sessionmaker: async_sessionmaker[AsyncSession], cid: int
) -> tuple[dict, dict, dict, dict]:
    """(counters by state and reason, recount of the targets, counters per account, recount of the events)."""
    async with sessionmaker() as session:
        kept = {
            (r.state, r.reason): int(r.n)
            for r in (
                await session.execute(
                    text(
                        """SELECT state, reason, sum(n) AS n FROM campaign_target_counts WHERE campaign_id = :c
                GROUP BY 1, 2 HAVING sum(n) <> 0"""
                    ),
                    {"c": cid},
                )
            ).all()
        }
        counted = {
            (r.state, r.reason): int(r.n)
            for r in (
                await session.execute(
                    text(
                        """SELECT state::text AS state, coalesce(reason, '') AS reason, count(*) AS n
                 FROM campaign_targets WHERE campaign_id = :c GROUP BY 1, 2"""
                    ),
                    {"c": cid},
                )
            ).all()
        }
        per_account = {
            int(r.account_id): (int(r.i), int(r.f), int(r.a))
            for r in (
                await session.execute(
                    text(
                        """SELECT account_id, sum(invited) AS i, sum(failed) AS f, sum(attempts) AS a
                 FROM campaign_account_counts WHERE campaign_id = :c GROUP BY 1
               HAVING sum(invited) <> 0 OR sum(failed) <> 0 OR sum(attempts) <> 0"""
                    ),
                    {"c": cid},
                )
            ).all()
        }
        from_events = {
            int(r.account_id): (int(r.i), int(r.f), int(r.a))
            for r in (
                await session.execute(
                    text(
                        """SELECT account_id, count(*) FILTER (WHERE outcome IN ('invited', 'already_member')) AS i,
                      count(*) FILTER (WHERE outcome IN ('failed', 'skipped')) AS f,
                      count(*) FILTER (WHERE counted) AS a
                 FROM invite_events WHERE campaign_id = :c AND account_id IS NOT NULL GROUP BY 1
               HAVING count(*) FILTER (WHERE outcome IN ('invited', 'already_member', 'failed', 'skipped')
                                           OR counted) > 0"""
                    ),
                    {"c": cid},
                )
            ).all()
        }
    return kept, counted, per_account, from_events


async def assert_counters_match(setup: Setup, cid: int) -> dict[tuple[str, str], int]:
    kept, counted, per_account, from_events = await recount(setup.sessionmaker, cid)
    assert kept == counted
    assert per_account == from_events
    return kept


async def test_counters_equal_a_recount_through_every_outcome(setup: Setup) -> None:
    world, acc = setup.world, setup.accounts
    plain = setup.people(range(15_001, 15_004), seen_by_tg=901)
    missing = setup.people([15_011], seen_by_tg=901, invite_outcome="missing_invitee")
    private = setup.people([15_012], seen_by_tg=901, invite_outcome="privacy")
    silent = setup.people([15_013], seen_by_tg=901, invite_outcome="silent")
    opted = setup.people([15_021], seen_by_tg=901)
    before = setup.people([15_022], seen_by_tg=901)
    in_chat_before = setup.people([15_023], seen_by_tg=901)
    world.put_users(
        [
            {"id": 15_031, "first_name": "Bare"},
            {"id": 15_041, "first_name": "Named", "username": "named_15041"},
            {"id": 15_051, "first_name": "Retry", "username": "retry_15051"},
        ]
    )
    bare = [(15_031, None, None, None)]
    member = [(903, "acc903", None, None)]  # in the chat, unknown to the pre-flight: called
    retried = [(15_051, "retry_15051", None, None)]
    people = (
        plain
        + missing
        + private
        + silent
        + opted
        + before
        + in_chat_before
        + bare
        + member
        + retried
    )
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO audience_usernames (audience_id, username_lower, username) VALUES (:a, 'named_15041', 'named_15041')"
            ),
            {"a": audience},
        )
        dal = InviteDal(session)
        await dal.add_opt_out(setup.ws, 15_021)
        # Someone the ledger already has in this chat (another campaign invited them).
        await session.execute(
            text(
                """INSERT INTO invite_ledger (workspace_id, chat_id, tg_user_id, outcome)
               VALUES (:ws, :chat, 15022, 'invited')"""
            ),
            {"ws": setup.ws, "chat": 7_000_001},
        )

    cid = await setup.campaign(audience, "target_group")
    async with setup.sessionmaker() as session, session.begin():
        # The pre-flight saw 15023 in the chat: a second fill marks nobody twice.
        await session.execute(
            text("DELETE FROM campaign_targets WHERE campaign_id = :c AND tg_user_id = 15023"),
            {"c": cid},
        )
        assert await InviteDal(session).fill_targets(cid, in_chat=[15_023]) == 1
    first = await assert_counters_match(setup, cid)
    assert first[("skipped", "opted_out")] == 1 and first[("skipped", "attempted_before")] == 1
    assert first[("already_member", "in_chat_before")] == 1

    # An account-level refusal hands the person back (refund, an uncounted `retry` event).
    world.add_fault("InviteToChannelRequest", "USER_BANNED_IN_CHANNEL", 1, account=902)
    await engine_for(setup, Notices()).run_account(await setup.account(902))
    await assert_counters_match(setup, cid)
    await engine_for(setup, Notices()).run_account(await setup.account(901))
    await assert_counters_match(setup, cid)
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE telegram_accounts SET status = 'active', status_reason = NULL")
        )
    await engine_for(setup, Notices()).run_account(await setup.account(902))
    await engine_for(setup, Notices()).run_account(await setup.account(901))
    kept = await assert_counters_match(setup, cid)

    targets = await setup.targets(cid)
    states = Counter(targets.values())
    # Every outcome is there, so the recount above covered each path that writes them.
    assert states[("invited", None)] >= 4  # 15001-15003, 15051, the username 15041
    assert targets[903] == ("already_member", None)
    assert targets[15_011] == ("failed", "missing_invitee")
    assert targets[15_012] == ("failed", "privacy_restricted")
    assert targets[15_013] == ("failed", "not_added")
    assert targets[15_031] == ("skipped", "unreachable")
    assert targets[15_041] == ("invited", None)
    assert targets[15_051] == ("invited", None)
    assert await setup.status(cid) == "done"
    assert sum(kept.values()) == len(targets)

    # What the views read: the same figures.
    async with setup.sessionmaker() as session:
        dal = InviteDal(session)
        counts = await dal.counts(cid)
        assert counts == {
            s.value: sum(n for (st, _r), n in kept.items() if st == s.value) for s in TargetState
        }
        tallied, reasons = await dal.tally(cid)
        assert tallied == counts
        assert reasons == {
            "missing_invitee": 1,
            "privacy_restricted": 1,
            "not_added": 1,
            "unreachable": 1,
            "opted_out": 1,
            "attempted_before": 1,
        }
        # The report reads the same counters in one statement, with the follow-up page.
        report = await dal.campaign_report(
            setup.ws,
            cid,
            follow_up_after=0,
            follow_up_limit=100,
            setting=LIMITS_KEY,
        )
        assert report is not None
        assert (report.counts, report.reasons) == (tallied, reasons)
        follow_ups = await dal.follow_ups(cid, after_id=0, limit=100)
        assert report.follow_ups == follow_ups
        assert sorted(f.tg_user_id or 0 for _, f in follow_ups) == [15_011, 15_012, 15_013]
        assert (
            await dal.campaign_report(
                setup.ws + 1000,
                cid,
                follow_up_after=0,
                follow_up_limit=100,
                setting=LIMITS_KEY,
            )
            is None
        )  # another workspace's campaign
        usage = {u.account_id: u for u in report.accounts}
        assert usage[acc[902]].attempts == sum(
            1 for c in setup.invite_calls() if c[0] == 902 and c[2] is None
        )
        assert sum(u.invited for u in usage.values()) == states[("invited", None)] + 1  # + 903
        marks = await dal.progress_marks([cid])
        assert marks[cid][0] == len(targets)


async def test_writers_on_several_connections_and_a_deleted_campaign(setup: Setup) -> None:
    people = setup.people(range(15_101, 15_301), seen_by_tg=901)
    audience = await make_audience(setup.sessionmaker, setup.ws, "big", people)
    cid = await setup.campaign(audience, "target_group")
    # Two transactions open at once on two connections, each moving targets between the same
    # states: neither waits for the other's counter rows (on shared rows the second would
    # wait for the first's commit, here for ever: the first waits for the second below).
    s1, s2 = setup.sessionmaker(), setup.sessionmaker()

    async def move(session: AsyncSession, sql: str) -> None:
        await asyncio.wait_for(session.execute(text(sql), {"c": cid}), 5)

    async with s1, s2:
        await move(
            s1,
            "UPDATE campaign_targets SET state = 'failed', reason = 'privacy_restricted' "
            "WHERE campaign_id = :c AND tg_user_id < 15150",
        )
        await move(
            s2,
            "UPDATE campaign_targets SET state = 'skipped', reason = 'opted_out' "
            "WHERE campaign_id = :c AND tg_user_id >= 15250",
        )
        await move(
            s1,
            "UPDATE campaign_targets SET state = 'invited' "
            "WHERE campaign_id = :c AND tg_user_id BETWEEN 15200 AND 15249",
        )
        await move(
            s2,
            "UPDATE campaign_targets SET state = 'invited' "
            "WHERE campaign_id = :c AND tg_user_id BETWEEN 15150 AND 15199",
        )
        await s2.commit()
        await move(
            s1,
            "UPDATE campaign_targets SET state = 'already_member' "
            "WHERE campaign_id = :c AND tg_user_id = 15200",
        )
        await s1.rollback()  # a rolled-back change leaves no trace in the counters
    kept = await assert_counters_match(setup, cid)
    assert kept == {("skipped", "opted_out"): 51, ("invited", ""): 50, ("pending", ""): 99}

    # Deleting the campaign (its targets go by cascade) leaves no counter rows and no error.
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                """INSERT INTO invite_events (workspace_id, campaign_id, account_id, chat_id, tg_user_id, outcome, counted)
               VALUES (:ws, :c, :a, 7000001, 15101, 'invited', true)"""
            ),
            {"ws": setup.ws, "c": cid, "a": setup.accounts[901]},
        )
        await session.execute(text("DELETE FROM campaigns WHERE id = :c"), {"c": cid})
    async with setup.sessionmaker() as session:
        left = await session.scalar(
            text(
                "SELECT (SELECT count(*) FROM campaign_target_counts) + (SELECT count(*) FROM campaign_account_counts)"
            )
        )
    assert left == 0


async def test_the_backfill_gives_the_triggers_figures(setup: Setup) -> None:
    """The migration's backfill (shard 0) folds existing rows into the same figures."""
    people = setup.people(range(15_401, 15_421), seen_by_tg=901)
    cid = await setup.campaign(
        await make_audience(setup.sessionmaker, setup.ws, "a", people), "target_group"
    )
    await engine_for(setup, Notices()).run_account(await setup.account(901))
    before = await recount(setup.sessionmaker, cid)
    migration = importlib.import_module(
        "migrations.versions.20261206_d9a4f2c7e1b6_campaign_counters_member_search"
    )
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(text("DELETE FROM campaign_target_counts"))
        await session.execute(text("DELETE FROM campaign_account_counts"))
        for statement in migration.BACKFILL:
            await session.execute(text(statement))
    assert await recount(setup.sessionmaker, cid) == before
