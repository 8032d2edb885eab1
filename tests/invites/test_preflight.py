"""The pre-flight names every account of the workspace as eligible or excluded, with why."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.campaign_service import CampaignService
from core.errors import InvalidInput
from db.dal import open_dal
from tests.invites.conftest import FAST, Setup, link_accounts, make_audience
from tests.invites.test_campaign_flow import owner_id, planner


async def test_each_exclusion_reason_and_the_broadcast_rule(setup: Setup) -> None:
    world = setup.world
    # Two more accounts: 904 is an admin without the right to add members, 905 is disabled.
    _ws, more = await link_accounts(
        world, setup.gateway, setup.sessionmaker, setup.settings, [904, 905]
    )
    setup.accounts.update(more)
    acc = setup.accounts
    world.put_users([{"id": 30_000 + i, "first_name": f"P{i}"} for i in range(300)])
    world.put_chat(
        7_000_050,
        "channel",
        "News",
        username="news_channel",
        creator=901,
        members=[902, 903],
        admins={902: ["invite_users"], 904: ["ban_users"]},
    )
    async with setup.sessionmaker() as s, s.begin():
        await s.execute(
            text("UPDATE telegram_accounts SET status = 'disabled' WHERE id = :a"), {"a": acc[905]}
        )
        # 902 has already added its lifetime maximum into this channel.
        await s.execute(
            text("""INSERT INTO invite_events (workspace_id, account_id, chat_id, tg_user_id, outcome, counted)
                    SELECT :ws, :a, 7000050, g, 'invited', true FROM generate_series(1, :n) g"""),
            {"ws": setup.ws, "a": acc[902], "n": FAST.lifetime_per_chat},
        )
    audience = await make_audience(
        setup.sessionmaker,
        setup.ws,
        "big",
        [(30_000 + i, None, acc[901], None) for i in range(300)],
    )
    service = CampaignService(FAST)
    user = await owner_id(setup)
    async with open_dal(setup.sessionmaker) as dal:
        campaign = await service.create(
            dal, user, setup.ws, name="N", audience_id=audience, target="@news_channel"
        )
        await dal.commit()
    report = await planner(setup, service).preflight(user, setup.ws, campaign.id)
    assert report["kind"] == "channel"
    assert report["eligible"] == [acc[901]]  # the creator
    assert report["excluded"] == {
        str(acc[902]): "lifetime_cap",
        str(acc[903]): "not_admin",
        str(acc[904]): "no_invite_right",
        str(acc[905]): "unavailable",
    }
    assert "broadcast_200_cap" in report["warnings"]
    assert "broadcast_cap_too_small" in report["warnings"]  # 300 people, 200 at most by adding
    assert report["invite_link"]
    assert report["accounts"][str(acc[904])] == "@acc904"


async def test_a_chat_nobody_sees_cannot_start(setup: Setup) -> None:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "x", setup.people([31_000], seen_by_tg=901)
    )
    service = CampaignService(FAST)
    user = await owner_id(setup)
    async with open_dal(setup.sessionmaker) as dal:
        campaign = await service.create(
            dal, user, setup.ws, name="X", audience_id=audience, target="@no_such_chat"
        )
        await dal.commit()
    report = await planner(setup, service).preflight(user, setup.ws, campaign.id)
    assert report["kind"] is None and report["ready"] is False
    assert report["warnings"] == ["target_not_found"]
    assert set(report["excluded"].values()) == {"cannot_see_chat"}
    async with open_dal(setup.sessionmaker) as dal:
        with pytest.raises(InvalidInput) as err:
            await service.start(dal, user, setup.ws, campaign.id)
    assert err.value.details["problem"] == "target_not_found"
