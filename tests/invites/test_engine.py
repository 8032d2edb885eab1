"""The invite engine against an in-process world: outcomes, the ledger, opt-outs, leases."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text

from db.dal_invites import InviteDal
from tests.invites.conftest import FAST, Setup, make_audience
from workers.inviting import InviteConfig


async def test_invites_everyone_once_and_finishes(setup: Setup) -> None:
    people = setup.people(range(10_001, 10_011), seen_by_tg=901)
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    cid = await setup.campaign(audience, "target_group")
    engine = setup.engine()
    assert await engine.run_account(await setup.account(901)) == "idle"
    targets = await setup.targets(cid)
    assert Counter(s for s, _ in targets.values()) == {"invited": 10}
    calls = setup.invite_calls()
    assert len(calls) == 10 and all(c[0] == 901 for c in calls)
    assert await setup.status(cid) == "done"
    assert set(setup.world.chats[7_000_001].members) >= set(range(10_001, 10_011))


async def test_outcomes_missing_invitee_privacy_and_not_retried(setup: Setup) -> None:
    ok = setup.people([11_001], seen_by_tg=901)
    missing = setup.people([11_002], seen_by_tg=901, invite_outcome="missing_invitee")
    private = setup.people([11_003], seen_by_tg=901, invite_outcome="privacy")
    member = [(903, "acc903", None, None)]  # already in the chat
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", ok + missing + private + member
    )
    cid = await setup.campaign(audience, "target_group")
    engine = setup.engine()
    await engine.run_account(await setup.account(901))
    await engine.run_account(await setup.account(901))  # a second round retries nothing
    targets = await setup.targets(cid)
    assert targets[11_001] == ("invited", None)
    assert targets[11_002] == ("failed", "missing_invitee")
    assert targets[11_003] == ("failed", "privacy_restricted")
    assert targets[903] == ("already_member", None)
    per_user = Counter(u for _, users, _ in setup.invite_calls() for u in users)
    assert per_user == {11_001: 1, 11_002: 1, 11_003: 1, 903: 1}
    assert await setup.status(cid) == "done"


async def test_ledger_across_two_campaigns_and_opt_outs(setup: Setup) -> None:
    people = setup.people(range(12_001, 12_006), seen_by_tg=901)
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    first = await setup.campaign(audience, "target_group", "first")
    second = await setup.campaign(audience, "target_group", "second")  # filled before any run
    async with setup.sessionmaker() as session, session.begin():
        await InviteDal(session).add_opt_out(setup.ws, 12_005)
    engine = setup.engine()
    await engine.run_account(await setup.account(901))
    await engine.run_account(await setup.account(902))
    one, two = await setup.targets(first), await setup.targets(second)
    invited = {u for t in (one, two) for u, (s, _) in t.items() if s == "invited"}
    assert invited == {12_001, 12_002, 12_003, 12_004}
    assert one[12_005] == ("skipped", "opted_out") and two[12_005] == ("skipped", "opted_out")
    per_user = Counter(u for _, users, _ in setup.invite_calls() for u in users)
    assert per_user == dict.fromkeys(invited, 1)
    # a rerun (a third campaign) finds everyone in the ledger already
    third = await setup.campaign(audience, "target_group", "third")
    assert {s for s, _ in (await setup.targets(third)).values()} == {"skipped"}
    assert await setup.status(first) == "done" and await setup.status(second) == "done"


async def _seed_events(setup: Setup, tg: int, chat: int, n: int, days_ago: int = 0) -> None:
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("""INSERT INTO invite_events (at, workspace_id, account_id, chat_id, tg_user_id, outcome, counted)
                    SELECT now() - make_interval(days => :d), :ws, :acc, :chat, g, 'invited', true
                      FROM generate_series(1, :n) g"""),
            {"d": days_ago, "ws": setup.ws, "acc": setup.accounts[tg], "chat": chat, "n": n},
        )


def _limits(**kw: int) -> InviteConfig:
    from core.limits import InviteLimits

    return InviteConfig(limits=InviteLimits(**kw), pause_scale=0)


async def test_daily_cap_of_an_account(setup: Setup) -> None:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", setup.people([13_001], seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    await _seed_events(setup, 901, 42, 30)  # 30 invites today into another chat
    engine = setup.engine(_limits())
    await engine.run_account(await setup.account(901))
    assert setup.invite_calls() == []
    assert (await setup.targets(cid))[13_001][0] == "pending"
    assert engine._resume_at[setup.accounts[901]].hour == 0  # tomorrow, 00:00 UTC


async def test_daily_cap_per_chat(setup: Setup) -> None:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", setup.people([13_101], seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    await _seed_events(setup, 901, 7_000_001, 15)
    await setup.engine(_limits()).run_account(await setup.account(901))
    assert setup.invite_calls() == []
    assert (await setup.targets(cid))[13_101][0] == "pending"


async def test_lifetime_cap_per_chat_hands_over_to_another_account(setup: Setup) -> None:
    people = [(13_201, "p13201", None, None)]
    setup.world.put_users([{"id": 13_201, "username": "p13201", "first_name": "P"}])
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    cid = await setup.campaign(audience, "target_group")
    await _seed_events(setup, 901, 7_000_001, 200, days_ago=3)
    engine = setup.engine(_limits())
    await engine.run_account(await setup.account(901))
    assert setup.invite_calls() == []
    await engine.run_account(await setup.account(902))
    assert [c[0] for c in setup.invite_calls()] == [902]
    assert (await setup.targets(cid))[13_201] == ("invited", None)


async def test_pause_between_two_invites(setup: Setup) -> None:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", setup.people([13_301, 13_302], seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    from core.limits import InviteLimits

    engine = setup.engine(InviteConfig(limits=InviteLimits(pause_min_s=600, pause_max_s=900)))
    engine._pauses[setup.accounts[901]] = 0  # the first invite may go at once
    await engine.run_account(await setup.account(901))
    assert len(setup.invite_calls()) == 1
    states = sorted(s for s, _ in (await setup.targets(cid)).values())
    assert states == ["invited", "pending"]
    from datetime import UTC, datetime

    wait = (engine._resume_at[setup.accounts[901]] - datetime.now(UTC)).total_seconds()
    assert 590 <= wait <= 900


async def test_flood_wait_cools_down_and_spends_no_quota(setup: Setup) -> None:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", setup.people([13_401], seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    setup.world.add_fault("InviteToChannelRequest", "FLOOD_WAIT_120", 1, account=901)
    engine = setup.engine()
    assert await engine.run_account(await setup.account(901)) == "flood"
    assert (await setup.targets(cid))[13_401][0] == "pending"
    account = await setup.account(901)
    assert account.status.value == "cooldown" and account.cooldown_until is not None
    from datetime import UTC, datetime

    assert 170 <= (account.cooldown_until - datetime.now(UTC)).total_seconds() <= 181
    async with setup.sessionmaker() as session:
        usage = await InviteDal(session).usage(
            account.id, 7_000_001, datetime(2000, 1, 1, tzinfo=UTC), setup.ws
        )
    assert usage.ever_in_chat == 0


async def test_peer_flood_parks_the_account(setup: Setup) -> None:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", setup.people([13_501], seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    setup.world.add_fault("InviteToChannelRequest", "PEER_FLOOD", 1, account=901)
    assert await setup.engine().run_account(await setup.account(901)) == "peer_flood"
    account = await setup.account(901)
    assert account.status.value == "parked"
    from datetime import UTC, datetime

    assert account.cooldown_until is not None
    assert (account.cooldown_until - datetime.now(UTC)).total_seconds() > 86_000
    assert (await setup.targets(cid))[13_501][0] == "pending"


async def test_lost_lease_drops_the_result_and_reconcile_checks_membership(
    setup: Setup, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from db.leases import LeaseStore
    from gateway.inviting import Inviter

    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", setup.people([13_601], seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    real_invite = Inviter.invite
    acc = setup.accounts[901]

    async def invite_then_lose_lease(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = await real_invite(self, *args, **kwargs)
        async with setup.sessionmaker() as session, session.begin():  # the lease expires
            await session.execute(
                text("UPDATE account_leases SET expires_at = now() WHERE account_id = :a"),
                {"a": acc},
            )
        return result

    monkeypatch.setattr(Inviter, "invite", invite_then_lose_lease)
    assert await setup.engine().run_account(await setup.account(901)) == "busy"
    monkeypatch.setattr(Inviter, "invite", real_invite)
    assert (await setup.targets(cid))[13_601][0] == "sending"  # the result was not recorded
    # the claim lapses; another process resolves it by membership, without sending again
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE campaign_targets SET claimed_until = now() - interval '1 hour'")
        )
    other = setup.engine(InviteConfig(limits=FAST, pause_scale=0, quarantine_s=1), owner="worker-b")
    assert isinstance(other.leases, LeaseStore)
    await other.run_account(await setup.account(901))
    assert (await setup.targets(cid))[13_601] == ("invited", None)
    assert len(setup.invite_calls()) == 1
    assert other.stats.get("reconciled_invited") == 1
    assert await setup.status(cid) == "done"
