"""The automatic brake: a campaign that mostly meets privacy refusals, whose people leave,
or whose accounts Telegram limits for spam pauses itself, says why, and tells its creator
once; a person who resumes it gets a fresh window."""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis
from sqlalchemy import text

from core.brake import BrakeFacts, BrakeRules, brake_reason
from core.campaign_service import CampaignService
from db.dal import open_dal
from tests.invites.conftest import FAST, Notices, Setup, make_audience
from tests.invites.test_watch import owned_by_owner
from workers.campaign_watch import CampaignWatch
from workers.inviting import InviteConfig

RULES = BrakeRules(
    window=50,
    min_results=20,
    privacy_share=0.6,
    left_share=0.5,
    peer_flood_accounts=2,
    peer_flood_window_s=3600,
)


def _watch(setup: Setup, redis: Redis, notices: Notices) -> CampaignWatch:
    return CampaignWatch(
        sessionmaker=setup.sessionmaker, redis=redis, notifier=notices, limits=FAST, brake=RULES
    )


async def _reason(setup: Setup, cid: int) -> str | None:
    async with setup.sessionmaker() as session:
        return await session.scalar(
            text("SELECT paused_reason FROM campaigns WHERE id = :c"), {"c": cid}
        )


def test_the_signs_and_their_thresholds() -> None:
    assert brake_reason(BrakeFacts(50, 31, 0, 0, 0), RULES) == "brake_privacy"
    assert brake_reason(BrakeFacts(50, 30, 0, 0, 0), RULES) is None  # 60 % is not past 60 %
    assert brake_reason(BrakeFacts(19, 19, 0, 0, 0), RULES) is None  # too few results to judge
    assert brake_reason(BrakeFacts(50, 0, 40, 21, 0), RULES) == "brake_left"
    assert brake_reason(BrakeFacts(50, 0, 40, 20, 0), RULES) is None
    assert brake_reason(BrakeFacts(3, 0, 0, 0, 2), RULES) == "brake_peer_flood"
    assert brake_reason(BrakeFacts(3, 0, 0, 0, 1), RULES) is None


async def test_a_privacy_heavy_campaign_pauses_once_and_resumes_with_a_fresh_window(
    setup: Setup,
    redis: Redis,
) -> None:
    open_ids = list(range(41_001, 41_008))
    private_ids = list(range(41_101, 41_133))
    people = setup.people(open_ids, seen_by_tg=901) + setup.people(
        private_ids, seen_by_tg=901, invite_outcome="privacy"
    )
    people.sort()  # interleaved by id: the open ones first, then the private ones
    audience = await make_audience(setup.sessionmaker, setup.ws, "private", people)
    cid = await setup.campaign(audience, "target_group")
    await owned_by_owner(setup, cid)
    notices = Notices()
    watch = _watch(setup, redis, notices)

    # 25 results: 7 added, 18 refused for privacy (72 %): past the threshold.
    engine = setup.engine(InviteConfig(limits=replace(FAST, daily_per_account=25), pause_scale=0))
    await engine.run_account(await setup.account(901))
    await watch.tick()
    assert await setup.status(cid) == "paused"
    assert await _reason(setup, cid) == "brake_privacy"
    assert notices.kinds().count("campaign_paused") == 1
    paused_notice = next(p for _t, k, p in notices.sent if k == "campaign_paused")
    assert paused_notice["reason"] == "brake_privacy"
    # Told once: more looks change nothing, and the paused campaign invites nobody.
    await watch.tick()
    await watch.tick()
    assert notices.kinds().count("campaign_paused") == 1
    calls = len(setup.invite_calls())
    await setup.engine().run_account(await setup.account(902))
    assert len(setup.invite_calls()) == calls

    # A person resumes it: the old refusals no longer count, and it runs (where the next
    # window starts is in the campaign's row: Redis losing its data changes nothing).
    await redis.flushdb()
    async with open_dal(setup.sessionmaker) as dal:
        user_id = await dal.session.scalar(
            text("SELECT owner_id FROM workspaces WHERE id = :w"), {"w": setup.ws}
        )
        await CampaignService(FAST).resume(dal, user_id, setup.ws, cid)
        await dal.commit()
    await watch.tick()
    assert await setup.status(cid) == "running"
    assert await _reason(setup, cid) is None


async def test_peer_flood_on_two_accounts_within_the_hour_pauses_the_campaign(
    setup: Setup, redis: Redis
) -> None:
    # Known by username, so that either account can name anyone.
    ids = list(range(42_001, 42_011))
    setup.world.put_users([{"id": i, "first_name": f"P{i}", "username": f"flood_{i}"} for i in ids])
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "flood", [(i, f"flood_{i}", None, None) for i in ids]
    )
    cid = await setup.campaign(audience, "target_group")
    await owned_by_owner(setup, cid)
    notices = Notices()
    watch = _watch(setup, redis, notices)
    engine = setup.engine()
    setup.world.add_fault("InviteToChannelRequest", "PEER_FLOOD", 1, account=901)
    assert await engine.run_account(await setup.account(901)) == "peer_flood"
    await watch.tick()
    assert await setup.status(cid) == "running"  # one account: not yet a sign about the campaign
    setup.world.add_fault("InviteToChannelRequest", "PEER_FLOOD", 1, account=902)
    assert await engine.run_account(await setup.account(902)) == "peer_flood"
    await watch.tick()
    assert await setup.status(cid) == "paused"
    assert await _reason(setup, cid) == "brake_peer_flood"
    await watch.tick()
    assert notices.kinds().count("campaign_paused") == 1


async def test_people_leaving_early_pause_the_campaign(setup: Setup, redis: Redis) -> None:
    ids = list(range(43_101, 43_111))
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "leavers", setup.people(ids, seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    await owned_by_owner(setup, cid)
    notices = Notices()
    watch = _watch(setup, redis, notices)
    # People it added earlier, checked a day later: 10 of 25 gone; not yet a sign.
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("""
            INSERT INTO retention_checks (campaign_id, tg_user_id, workspace_id, chat_id, added_at, stayed_day)
            SELECT :c, g, :w, 7000001, now() - interval '2 days', g > 43010
              FROM generate_series(43001, 43025) AS g"""),
            {"c": cid, "w": setup.ws},
        )
    await watch.tick()
    assert await setup.status(cid) == "running"
    # Six more checked, all gone: 16 of 31, past half.
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("""
            INSERT INTO retention_checks (campaign_id, tg_user_id, workspace_id, chat_id, added_at, stayed_day)
            SELECT :c, g, :w, 7000001, now() - interval '1 day', false
              FROM generate_series(43026, 43031) AS g"""),
            {"c": cid, "w": setup.ws},
        )
    await watch.tick()
    assert await setup.status(cid) == "paused"
    assert await _reason(setup, cid) == "brake_left"
    await watch.tick()
    assert notices.kinds().count("campaign_paused") == 1
