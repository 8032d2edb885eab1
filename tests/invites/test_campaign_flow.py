"""Campaigns as users steer them: create, pre-flight through Telegram, start, report, events."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import text

from core.accounts import build_account_service
from core.campaign_service import (
    CampaignService,
    parse_hours,
    parse_start_at,
    parse_target,
)
from core.dto import TelegramProfile
from core.errors import InvalidInput, NotFound
from core.users import register
from db.dal import open_dal
from db.leases import LeaseStore
from gateway.campaigns import Planner
from sandbox.world.model import Membership
from tests.invites.conftest import FAST, OWNER_TG, TARGET, Setup, make_audience
from workers.inviting import InviteConfig


def planner(setup: Setup, service: CampaignService) -> Planner:
    return Planner(
        campaigns=service,
        accounts=build_account_service(setup.settings, None),
        gateway=setup.gateway,
        leases=LeaseStore(setup.sessionmaker, "api-test", ttl_s=30),
        sessionmaker=setup.sessionmaker,
        lease_wait_s=0.5,
    )


async def owner_id(setup: Setup) -> int:
    async with open_dal(setup.sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(OWNER_TG)
    assert user is not None
    return user.id


def test_target_and_schedule_parsing() -> None:
    assert parse_target("@Target_Group") == "target_group"
    assert parse_target("https://t.me/target_group") == "target_group"
    assert parse_target("-4001234") == "4001234"
    assert parse_target("-1001700000004") == "-1001700000004"  # a supergroup, as bots show it
    assert parse_target("t.me/+AbCdEf") == parse_target("https://t.me/joinchat/AbCdEf") == "+AbCdEf"
    assert parse_target("+AbCdEf") == "+AbCdEf"  # the stored form reads back the same
    for bad in ("https://t.me/+", "a b", "", "@ab", "0"):
        with pytest.raises(InvalidInput):
            parse_target(bad)
    assert parse_hours("9-21") == (9, 21)
    assert parse_hours("22-6") == (22, 6)
    assert parse_hours("any") is None
    for bad in ("9", "25-3", "9-9", "x-y"):
        with pytest.raises(InvalidInput):
            parse_hours(bad)
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert parse_start_at("2026-11-24 09:00", now) == datetime(2026, 11, 24, 9, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        parse_start_at("2026-11-22 09:00", now)
    assert parse_start_at("2027-11-23 12:00", now) == datetime(
        2027, 11, 23, 12, tzinfo=UTC
    )  # a year ahead
    with pytest.raises(InvalidInput) as far:
        parse_start_at("2027-11-23 12:01", now)  # a typo, not a plan
    assert far.value.details["problem"] == "start_at_far"
    with pytest.raises(InvalidInput):
        parse_start_at("tomorrow", now)


async def test_preflight_start_run_report_events(setup: Setup) -> None:
    service = CampaignService(FAST)
    user = await owner_id(setup)
    # 20 people seen by 901; 2 of them already in the chat; one opted out.
    people = setup.people(range(10_000, 10_020), seen_by_tg=901)
    chat = setup.world.find_chat(TARGET)
    for member in (10_000, 10_001):
        chat.members[member] = Membership(chat.date)
    audience = await make_audience(setup.sessionmaker, setup.ws, "a", people)
    async with open_dal(setup.sessionmaker) as dal:
        await dal.add_opt_out(setup.ws, 10_019)
        campaign = await service.create(
            dal, user, setup.ws, name="Grow", audience_id=audience, target="t.me/target_group"
        )
        await dal.commit()
        assert campaign.status == "draft"
        with pytest.raises(InvalidInput) as err:
            await service.start(dal, user, setup.ws, campaign.id)
        assert err.value.details["problem"] == "preflight_missing"
    report = await planner(setup, service).preflight(user, setup.ws, campaign.id)
    acc = setup.accounts
    assert report["kind"] == "megagroup" and report["title"] == "Target"
    assert sorted(report["eligible"]) == sorted([acc[901], acc[902]])
    assert report["excluded"] == {str(acc[903]): "not_admin"}
    assert report["opted_out"] == 1
    assert report["already_members"] == 2 and report["to_invite"] == 17
    assert report["ready"] is True
    assert report["days_to_finish"] == 1
    async with open_dal(setup.sessionmaker) as dal:
        started = await service.start(dal, user, setup.ws, campaign.id)
        await dal.commit()
    assert started.status == "running"
    engine = setup.engine(InviteConfig(limits=FAST, pause_scale=0))
    for account_tg in (901, 902):
        await engine.run_account(await setup.account(account_tg))
    async with open_dal(setup.sessionmaker) as dal:
        view = await service.view(dal, user, setup.ws, campaign.id)
        assert view.campaign.status == "done"
        assert view.counts["pending"] == 0
        assert view.counts["skipped"] == 1
        assert view.counts["invited"] == 17 and view.counts["already_member"] == 2
        rep = await service.report(dal, user, setup.ws, campaign.id)
        assert rep.reasons == {"opted_out": 1}
        by_account = {u.account_id: u for u in rep.accounts}
        assert by_account[acc[901]].invited + by_account[acc[902]].invited == 17
        assert by_account[acc[903]].attempts == 0
        first = await service.events(dal, user, setup.ws, campaign.id, limit=10)
        assert len(first.items) == 10 and first.next_cursor == first.items[-1].id
        second = await service.events(
            dal, user, setup.ws, campaign.id, after_id=first.next_cursor, limit=50
        )
        # One event per attempt: logged `unconfirmed` at the call, then given the outcome of
        # the membership check that followed it.
        assert len(second.items) == 7 and second.next_cursor is None
        events = first.items + second.items
        assert Counter(e.outcome for e in events) == {"invited": 17}
        assert {e.tg_user_id for e in events} == set(range(10_002, 10_019))
        # Only the 17 invites were sent: nobody already in the chat got a call.
        assert sorted(u for _a, users, _e in setup.invite_calls() for u in users) == list(
            range(10_002, 10_019)
        )
        # A stranger's workspace does not see it.
        stranger, _ = await register(dal, TelegramProfile(4242, "stranger", "S", None, "en"), ())
        mine = (await dal.list_workspaces(stranger.id))[0].id
        with pytest.raises(NotFound):
            await service.view(dal, stranger.id, setup.ws, campaign.id)
        with pytest.raises(NotFound):
            await service.view(dal, stranger.id, mine, campaign.id)
        copy = await service.duplicate(dal, user, setup.ws, campaign.id)
        assert (
            copy.status == "draft" and copy.id != campaign.id and copy.target_ref == "target_group"
        )
        await dal.commit()
    # The copy invites nobody again: the ledger has them all.
    report2 = await planner(setup, service).preflight(user, setup.ws, copy.id)
    assert report2["to_invite"] == 0
    assert (
        report2["attempted_before"] == 17
        and report2["already_members"] == 2
        and report2["opted_out"] == 1
    )


async def test_pause_resume_cancel_rules(setup: Setup) -> None:
    service = CampaignService(FAST)
    user = await owner_id(setup)
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "b", setup.people([11_000], seen_by_tg=901)
    )
    async with open_dal(setup.sessionmaker) as dal:
        campaign = await service.create(
            dal, user, setup.ws, name="C", audience_id=audience, target="@target_group"
        )
        await dal.commit()
    await planner(setup, service).preflight(user, setup.ws, campaign.id)
    async with open_dal(setup.sessionmaker) as dal:
        with pytest.raises(InvalidInput) as err:
            await service.pause(dal, user, setup.ws, campaign.id)
        assert err.value.details["problem"] == "transition"
        await service.start(dal, user, setup.ws, campaign.id)
        paused = await service.pause(dal, user, setup.ws, campaign.id)
        assert paused.status == "paused"
        await dal.commit()
    # A paused campaign gives nobody to the workers.
    engine = setup.engine()
    await engine.run_account(await setup.account(901))
    assert setup.invite_calls() == []
    async with open_dal(setup.sessionmaker) as dal:
        assert (await service.resume(dal, user, setup.ws, campaign.id)).status == "running"
        assert (await service.cancel(dal, user, setup.ws, campaign.id)).status == "cancelled"
        with pytest.raises(InvalidInput):
            await service.resume(dal, user, setup.ws, campaign.id)
        await dal.commit()


async def test_create_rejects_bad_input(setup: Setup) -> None:
    service = CampaignService(FAST)
    user = await owner_id(setup)
    async with open_dal(setup.sessionmaker) as dal:
        for kwargs, problem in (
            ({"name": " ", "audience_id": 1, "target": "@target_group"}, "campaign_name"),
            ({"name": "x", "audience_id": 1, "target": "t.me/secret chat"}, "target_link"),
            ({"name": "x", "audience_id": 999_999, "target": "@target_group"}, "audience_unknown"),
        ):
            with pytest.raises(InvalidInput) as err:
                await service.create(dal, user, setup.ws, **kwargs)  # type: ignore[arg-type]
            assert err.value.details["problem"] == problem
        count = await dal.session.scalar(text("SELECT count(*) FROM campaigns"))
        assert count == 0
