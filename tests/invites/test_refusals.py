"""Telegram's refusals read by whom they concern (core/outcomes.py), on the sandbox.

Each class of refusal, through the real engine and real Telethon: the account stops at
once, the person is released and added by another account with no quota or attempt spent
on them, the owner is told once, Telegram's error name is kept; a full chat pauses the
campaign with the people left to do; an accepted call that adds nobody is not `invited`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from core.accounts import build_account_service, can_work
from core.dto import AccountStatus
from db.dal import open_dal
from db.dal_invites import InviteDal
from db.leases import LeaseStore
from db.metrics import telegram_error_counter
from tests.invites.conftest import FAST, TARGET, Notices, Setup, make_audience
from workers.inviting import InviteConfig, InviteEngine


def engine_for(
    setup: Setup, told: Notices, redis: Redis | None = None, owner: str = "worker-a"
) -> InviteEngine:
    return InviteEngine(
        sessionmaker=setup.sessionmaker,
        gateway=setup.gateway,
        service=build_account_service(setup.settings, told),
        leases=LeaseStore(setup.sessionmaker, owner, ttl_s=30),
        config=InviteConfig(limits=FAST, pause_scale=0),
        errors=telegram_error_counter(redis) if redis is not None else None,
        notifier=told,
    )


async def events(
    setup: Setup, cid: int
) -> list[tuple[int | None, int, str, str | None, str | None, bool]]:
    async with setup.sessionmaker() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT account_id, tg_user_id, outcome, reason, error, counted FROM invite_events "
                    "WHERE campaign_id = :c ORDER BY id"
                ),
                {"c": cid},
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def attempts_of(setup: Setup, cid: int, tg_user_id: int) -> int:
    async with setup.sessionmaker() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT attempts FROM campaign_targets WHERE campaign_id = :c AND tg_user_id = :u"
                ),
                {"c": cid, "u": tg_user_id},
            )
        )


async def checked_and_started(
    setup: Setup, audience: int, name: str
) -> tuple[int, dict[str, object]]:
    """A campaign made as the owner would: created, checked by the pre-flight, started.
    Returns its id and the stored pre-flight."""
    from core.campaign_service import CampaignService
    from tests.invites.test_campaign_flow import owner_id, planner

    service = CampaignService(FAST)
    user = await owner_id(setup)
    async with open_dal(setup.sessionmaker) as dal:
        campaign = await service.create(
            dal, user, setup.ws, name=name, audience_id=audience, target="target_group"
        )
        await dal.commit()
    report = await planner(setup, service).preflight(user, setup.ws, campaign.id)
    async with open_dal(setup.sessionmaker) as dal:
        await service.start(dal, user, setup.ws, campaign.id)
        await dal.commit()
    return campaign.id, report


async def one_person(setup: Setup, tg_user_id: int) -> int:
    """A campaign of one person whom both inviting accounts can reach (a username)."""
    setup.world.put_users([{"id": tg_user_id, "first_name": "P", "username": f"p{tg_user_id}"}])
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", [(tg_user_id, f"p{tg_user_id}", None, None)]
    )
    return await setup.campaign(audience, "target_group")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("USER_BANNED_IN_CHANNEL", "restricted"),  # the *caller* is spam-restricted
        ("FROZEN_METHOD_INVALID", "frozen"),
        ("AUTH_KEY_DUPLICATED", "unauthorized"),  # "can no longer be used"
        ("SESSION_REVOKED", "unauthorized"),
        ("USER_DEACTIVATED_BAN", "banned"),
    ],
)
async def test_the_account_stops_and_another_adds_the_person(
    setup: Setup, error: str, status: str
) -> None:
    cid = await one_person(setup, 14_001)
    setup.world.add_fault("InviteToChannelRequest", error, 1, account=901)
    told = Notices()
    engine = engine_for(setup, told)

    assert await engine.run_account(await setup.account(901)) != "idle"
    first = await setup.account(901)
    assert first.status.value == status and first.status_reason == error
    # Released with the attempt given back, nothing counted against the account.
    assert (await setup.targets(cid))[14_001] == ("pending", (await setup.targets(cid))[14_001][1])
    assert await attempts_of(setup, cid, 14_001) == 0
    (refused,) = await events(setup, cid)
    assert refused == (setup.accounts[901], 14_001, "retry", refused[3], error, False)
    # The other account adds the person (the tick never starts a stopped account:
    # `test_a_restricted_account_gets_no_work`).
    assert await engine.run_account(await setup.account(902)) == "idle"
    assert (await setup.targets(cid))[14_001] == ("invited", None)
    assert 14_001 in setup.world.chats[TARGET].members
    async with setup.sessionmaker() as session:
        usage = await InviteDal(session).usage(
            setup.accounts[901], TARGET, first.created_at.replace(year=2000), setup.ws
        )
    assert usage.ever_in_chat == 0
    # The owner heard once, with the status that says what to do.
    assert told.kinds().count("account_status") == 1
    ((_tg, _kind, payload),) = [n for n in told.sent if n[1] == "account_status"]
    assert payload["status"] == status and payload["reason"] == error


async def test_a_restricted_account_gets_no_work(setup: Setup) -> None:
    cid = await one_person(setup, 14_101)
    setup.world.add_fault("InviteToChannelRequest", "USER_BANNED_IN_CHANNEL", 1, account=901)
    engine = engine_for(setup, Notices())
    await engine.run_account(await setup.account(901))
    await engine.tick()  # 901 is restricted: only 902 may be started
    for task in list(engine._tasks.values()):
        await task
    assert (await setup.targets(cid))[14_101] == ("invited", None)
    assert [c[0] for c in setup.invite_calls()] == [901, 902]


async def test_peer_flood_twice_makes_the_account_restricted(setup: Setup) -> None:
    await one_person(setup, 14_201)
    setup.world.add_fault("InviteToChannelRequest", "PEER_FLOOD", 2, account=901)
    engine = engine_for(setup, Notices())
    await engine.run_account(await setup.account(901))
    parked = await setup.account(901)
    assert parked.status.value == "parked" and parked.last_peer_flood_at is not None
    async with setup.sessionmaker() as session, session.begin():  # the day's rest is over
        await session.execute(
            text("UPDATE telegram_accounts SET cooldown_until = now() WHERE id = :a"),
            {"a": parked.id},
        )
    await engine_for(setup, Notices()).run_account(await setup.account(901))
    assert (await setup.account(901)).status.value == "restricted"


async def test_lost_rights_in_the_chat_hand_the_person_over(setup: Setup) -> None:
    cid = await one_person(setup, 14_301)
    setup.world.add_fault("InviteToChannelRequest", "CHAT_ADMIN_REQUIRED", 1, account=901)
    engine = engine_for(setup, Notices())
    assert await engine.run_account(await setup.account(901)) == "not_admin"
    assert (await setup.account(901)).status.value == "active"  # it may still invite elsewhere
    assert await attempts_of(setup, cid, 14_301) == 0
    await engine.run_account(await setup.account(902))
    assert (await setup.targets(cid))[14_301] == ("invited", None)


async def test_a_full_chat_pauses_the_campaign_with_people_left(setup: Setup) -> None:
    people = setup.people(range(14_401, 14_404), seen_by_tg=901)
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    cid = await setup.campaign(audience, "target_group")
    setup.world.add_fault("InviteToChannelRequest", "USERS_TOO_MUCH", 1, account=901)
    told = Notices()
    engine = engine_for(setup, told)
    await engine.run_account(await setup.account(901))
    assert await setup.status(cid) == "paused"
    async with setup.sessionmaker() as session:
        campaign = await InviteDal(session).find_campaign(cid)
    assert campaign is not None and campaign.paused_reason == "chat_full"
    assert Counter(s for s, _ in (await setup.targets(cid)).values()) == {"pending": 3}
    assert len(setup.invite_calls()) == 1  # nobody else was tried
    assert (await setup.account(901)).status.value == "active"  # not the account's fault
    assert told.kinds().count("campaign_paused") == 1
    paused = next(p for _t, k, p in told.sent if k == "campaign_paused")
    assert paused == {"campaign": "c", "reason": "chat_full"}
    await engine_for(setup, Notices()).run_account(await setup.account(902))
    assert len(setup.invite_calls()) == 1  # a paused campaign gives workers nobody


async def test_chat_member_add_failed_goes_to_another_account_then_fails(setup: Setup) -> None:
    cid = await one_person(setup, 14_501)
    setup.world.add_fault("InviteToChannelRequest", "CHAT_MEMBER_ADD_FAILED", 1)
    engine = engine_for(setup, Notices())
    await engine.run_account(await setup.account(901))
    assert (await setup.targets(cid))[14_501] == ("pending", "add_failed")
    await engine.run_account(await setup.account(901))  # not the same account again
    assert [c[0] for c in setup.invite_calls()] == [901]
    await engine.run_account(await setup.account(902))
    assert (await setup.targets(cid))[14_501] == ("invited", None)
    assert [c[0] for c in setup.invite_calls()] == [901, 902]


async def test_chat_member_add_failed_three_times_is_a_failure(setup: Setup) -> None:
    cid = await one_person(setup, 14_551)
    setup.world.add_fault("InviteToChannelRequest", "CHAT_MEMBER_ADD_FAILED", 3)
    engine = engine_for(setup, Notices())
    for tg_id in (901, 902, 901):
        await engine.run_account(await setup.account(tg_id))
    assert (await setup.targets(cid))[14_551] == ("failed", "add_failed")
    assert len(setup.invite_calls()) == 3


async def test_an_unknown_error_is_kept_tried_once_more_and_counted(
    setup: Setup, redis: Redis
) -> None:
    cid = await one_person(setup, 14_601)
    setup.world.add_fault("InviteToChannelRequest", "NEW_LIMIT_REACHED", 2)
    engine = engine_for(setup, Notices(), redis)
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(text("UPDATE campaign_targets SET not_before = NULL"))
    await engine.run_account(await setup.account(901))
    async with setup.sessionmaker() as session, session.begin():  # its retry time has come
        await session.execute(text("UPDATE campaign_targets SET not_before = NULL"))
    await engine.run_account(await setup.account(902))
    assert (await setup.targets(cid))[14_601] == ("failed", "unknown")
    assert [e[4] for e in await events(setup, cid)] == ["NEW_LIMIT_REACHED"] * 2
    counts = await telegram_error_counter(redis).read()
    assert counts[("NEW_LIMIT_REACHED", "unknown")] == 2


async def test_repeated_unknown_errors_park_the_account(setup: Setup) -> None:
    people = setup.people(range(14_701, 14_705), seen_by_tg=901)
    cid = await setup.campaign(
        await make_audience(setup.sessionmaker, setup.ws, "a", people), "target_group"
    )
    setup.world.add_fault("InviteToChannelRequest", "WHATEVER_THIS_IS", 10, account=901)
    told = Notices()
    assert await engine_for(setup, told).run_account(await setup.account(901)) == "unknown_errors"
    account = await setup.account(901)
    assert account.status.value == "parked" and account.status_reason == "WHATEVER_THIS_IS"
    assert len(setup.invite_calls()) == 3
    assert told.kinds().count("account_status") == 1
    assert Counter(s for s, _ in (await setup.targets(cid)).values())["pending"] == 4


@pytest.mark.parametrize("outcome", ["silent", "phantom"])
async def test_an_accepted_call_that_adds_nobody_is_not_invited(setup: Setup, outcome: str) -> None:
    people = setup.people([14_801], seen_by_tg=901, invite_outcome=outcome)
    cid = await setup.campaign(
        await make_audience(setup.sessionmaker, setup.ws, "a", people), "target_group"
    )
    engine = engine_for(setup, Notices())
    await engine.run_account(await setup.account(901))
    # The membership check after the call found nobody: a final failure, never a second call.
    assert (await setup.targets(cid))[14_801] == ("failed", "not_added")
    assert [e[2:5] for e in await events(setup, cid)] == [("failed", "not_added", None)]
    await engine.run_account(await setup.account(902))
    assert len(setup.invite_calls()) == 1
    assert await setup.status(cid) == "done"
    async with open_dal(setup.sessionmaker) as dal:
        assert 14_801 not in setup.world.chats[TARGET].members
        await dal.rollback()


async def test_a_member_invited_again_is_already_member_not_invited(setup: Setup) -> None:
    # 903 is in the chat; the pre-flight did not look, so the engine calls and Telegram
    # takes the call without an error (inviteToChannel does not document one for members).
    cid = await setup.campaign(
        await make_audience(setup.sessionmaker, setup.ws, "a", [(903, "acc903", None, None)]),
        "target_group",
    )
    await engine_for(setup, Notices()).run_account(await setup.account(901))
    assert (await setup.targets(cid))[903] == ("already_member", None)


def test_error_families_fold_the_number_only() -> None:
    from db.metrics import error_family

    assert error_family("FLOOD_WAIT_3600") == "FLOOD_WAIT_X"
    assert error_family("FLOOD_PREMIUM_WAIT_5") == "FLOOD_PREMIUM_WAIT_X"
    assert error_family("USER_BANNED_IN_CHANNEL") == "USER_BANNED_IN_CHANNEL"


async def test_bare_ids_are_never_sent_and_the_preflight_counts_them(setup: Setup) -> None:
    """A bare id (a CSV import) has no access hash: Telegram cannot take it, so no call is
    made with a zero hash; the pre-flight says how many nobody can reach."""
    setup.world.put_users(
        [
            {"id": 14_901, "first_name": "Bare"},
            {"id": 14_902, "first_name": "Named", "username": "named_one"},
        ]
    )
    people = [
        (14_901, None, None, None),
        (14_902, "named_one", None, None),
        *setup.people([14_903], seen_by_tg=901),
    ]
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    campaign_id, report = await checked_and_started(setup, audience, "reach")
    acc = setup.accounts
    assert report["unreachable"] == 1 and "unreachable_people" in report["warnings"]  # type: ignore[operator]
    assert report["reach"] == {str(acc[901]): 2, str(acc[902]): 1}
    await engine_for(setup, Notices()).run_account(await setup.account(902))
    await engine_for(setup, Notices()).run_account(await setup.account(901))
    targets = await setup.targets(campaign_id)
    assert targets[14_901] == ("skipped", "unreachable")
    assert targets[14_902] == ("invited", None) and targets[14_903] == ("invited", None)
    assert 14_901 not in {u for _a, users, _e in setup.invite_calls() for u in users}


def test_a_min_users_access_hash_is_not_kept() -> None:
    """core.telegram.org/api/min: a `min` user's hash works only with the message it came in."""
    from datetime import UTC, datetime

    from telethon.tl import types

    from gateway.reading import person_of

    seen = types.User(id=5, access_hash=777, first_name="M", min=True)
    full = types.User(id=6, access_hash=888, first_name="F")
    now = datetime.now(UTC)
    assert person_of(seen, now).access_hash is None  # type: ignore[union-attr]
    assert person_of(full, now).access_hash == 888  # type: ignore[union-attr]


async def test_enabling_a_restricted_account_does_not_skip_telegrams_verdict(setup: Setup) -> None:
    """Disable, then enable a restricted account: it is not `active` again by a click — it
    comes back parked past its rest, so the health check asks @SpamBot first."""
    from core.accounts import build_account_service
    from tests.invites.test_campaign_flow import owner_id

    service = build_account_service(setup.settings, None)
    account_id = setup.accounts[901]
    async with open_dal(setup.sessionmaker) as dal:
        await service.change_status(
            dal, account_id, AccountStatus.RESTRICTED, "USER_BANNED_IN_CHANNEL"
        )
        user = await owner_id(setup)
        await service.set_enabled(dal, user, setup.ws, account_id, enabled=False)
        back = await service.set_enabled(dal, user, setup.ws, account_id, enabled=True)
    assert back.status is AccountStatus.PARKED and back.status_reason == "re_enabled"
    assert not can_work(back, datetime.now(UTC))
    async with open_dal(setup.sessionmaker) as dal:  # an account the owner disabled while active
        await service.set_enabled(dal, user, setup.ws, setup.accounts[902], enabled=False)
        plain = await service.set_enabled(dal, user, setup.ws, setup.accounts[902], enabled=True)
    assert plain.status is AccountStatus.ACTIVE


async def test_lost_rights_take_the_account_off_the_campaign_for_every_worker(setup: Setup) -> None:
    setup.world.put_users(
        [{"id": i, "first_name": "P", "username": f"p{i}"} for i in range(16_001, 16_004)]
    )
    people = [(i, f"p{i}", None, None) for i in range(16_001, 16_004)]  # any account can name them
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    campaign_id, _report = await checked_and_started(setup, audience, "rights")
    setup.world.add_fault("InviteToChannelRequest", "CHAT_ADMIN_REQUIRED", 1, account=901)
    told = Notices()
    assert await engine_for(setup, told).run_account(await setup.account(901)) == "not_admin"
    async with setup.sessionmaker() as session:
        stored = (await InviteDal(session).find_campaign(campaign_id)).preflight  # type: ignore[union-attr]
    acc = setup.accounts
    assert acc[901] not in stored["eligible"] and stored["excluded"][str(acc[901])] == "lost_rights"
    notices = [p for _t, k, p in told.sent if k == "account_lost_rights"]
    assert notices == [{"account": "@acc901", "chat": "Target", "error": "CHAT_ADMIN_REQUIRED"}]
    # Another worker never gives 901 this campaign again; 902 adds everyone.
    other = engine_for(setup, Notices(), owner="worker-b")
    for _ in range(3):
        await other.tick()
        for task in list(other._tasks.values()):
            await task
    assert [c[0] for c in setup.invite_calls()].count(901) == 1
    states = Counter(s for s, _ in (await setup.targets(campaign_id)).values())
    assert states == {"invited": 3}
    assert told.kinds().count("account_lost_rights") == 1
