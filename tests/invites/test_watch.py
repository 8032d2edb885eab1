"""Campaign statuses kept current by the workers: waiting (quota, hours), done, notices,
daily reports; and people imported by username only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import text

from core.limits import InviteLimits
from tests.invites.conftest import FAST, TARGET, Notices, Setup, make_audience
from workers.campaign_watch import CampaignWatch
from workers.inviting import InviteConfig


async def owned_by_owner(setup: Setup, cid: int) -> None:
    """Campaigns made by the owner: notices go to the owner's Telegram id (555)."""
    async with setup.sessionmaker() as s, s.begin():
        await s.execute(
            text(
                "UPDATE campaigns SET created_by_user_id = (SELECT owner_id FROM workspaces WHERE id = :w)"
                " WHERE id = :c"
            ),
            {"c": cid, "w": setup.ws},
        )


def watch(
    setup: Setup, redis: Redis, notices: Notices, limits: InviteLimits = FAST
) -> CampaignWatch:
    return CampaignWatch(
        sessionmaker=setup.sessionmaker, redis=redis, notifier=notices, limits=limits
    )


async def test_waiting_while_quota_spent_then_running_again(setup: Setup, redis: Redis) -> None:
    limits = InviteLimits(
        daily_per_account=2, daily_per_chat=2, lifetime_per_chat=100, pause_min_s=1, pause_max_s=1
    )
    # With usernames, so that any account can reach them.
    people = [
        (i, f"user{i}", acc, h)
        for i, _n, acc, h in setup.people(range(20_000, 20_010), seen_by_tg=901)
    ]
    for i in range(20_000, 20_010):
        setup.world.put_users([{"id": i, "username": f"user{i}", "first_name": f"P{i}"}])
    audience = await make_audience(setup.sessionmaker, setup.ws, "q", people)
    cid = await setup.campaign(audience, "target_group")
    async with setup.sessionmaker() as s, s.begin():
        # As the pre-flight stores it: 903 is a plain member and was left out.
        await s.execute(
            text(
                "UPDATE campaigns SET limits = CAST(:l AS jsonb), preflight = CAST(:p AS jsonb)"
                " WHERE id = :c"
            ),
            {
                "c": cid,
                "p": f'{{"eligible": [{setup.accounts[901]}, {setup.accounts[902]}]}}',
                "l": '{"daily_per_account": 2, "daily_per_chat": 2, "lifetime_per_chat": 100, '
                '"pause_min_s": 1, "pause_max_s": 1}',
            },
        )
    await owned_by_owner(setup, cid)
    notices = Notices()
    w = watch(setup, redis, notices, limits)
    await w.tick()
    assert await setup.status(cid) == "running"
    engine = setup.engine(InviteConfig(limits=limits, pause_scale=0))
    for tg_id in (901, 902, 903):
        await engine.run_account(await setup.account(tg_id))
    # 901 and 902 may invite, 2 each: 4 invited, 6 left, nobody may go on today.
    targets = await setup.targets(cid)
    assert sum(1 for state, _r in targets.values() if state == "invited") == 4
    await w.tick()
    assert await setup.status(cid) == "waiting"
    async with setup.sessionmaker() as s:
        assert (
            await s.scalar(text("SELECT waiting_reason FROM campaigns WHERE id = :c"), {"c": cid})
            == "quota"
        )
    # The next UTC day the quota is back.
    await w.tick(now=datetime.now(UTC) + timedelta(days=1))
    assert await setup.status(cid) == "running"
    assert "campaign_progress" in notices.kinds()  # finished targets moved between two looks


async def test_waiting_outside_active_hours(setup: Setup, redis: Redis) -> None:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "h", setup.people([20_100], seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    noon = datetime.now(UTC).replace(hour=12, minute=0)
    async with setup.sessionmaker() as s, s.begin():
        await s.execute(
            text("UPDATE campaigns SET active_from_hour = 9, active_to_hour = 11 WHERE id = :c"),
            {"c": cid},
        )
    w = watch(setup, redis, Notices())
    await w.tick(now=noon)
    assert await setup.status(cid) == "waiting"
    await w.tick(now=noon.replace(hour=10))
    assert await setup.status(cid) == "running"


async def test_done_notice_once_across_watchers_and_daily_report(
    setup: Setup, redis: Redis
) -> None:
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "d", setup.people([20_200, 20_201], seen_by_tg=901)
    )
    cid = await setup.campaign(audience, "target_group")
    await owned_by_owner(setup, cid)
    await setup.engine().run_account(await setup.account(901))
    assert await setup.status(cid) == "done"
    a, b = Notices(), Notices()
    await watch(setup, redis, a).tick()
    await watch(setup, redis, b).tick()
    assert a.sent + b.sent == [(555, "campaign_done", {"campaign_id": str(cid)})]
    # Tomorrow each of two watchers tries to send yesterday's report: one goes out.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert await watch(setup, redis, a).daily_reports(tomorrow) == 1
    assert await watch(setup, redis, b).daily_reports(tomorrow) == 0
    assert a.sent[-1] == (
        555,
        "daily_report",
        {"workspace_id": str(setup.ws), "day": datetime.now(UTC).date().isoformat()},
    )


async def test_username_only_people_are_resolved_and_invited(setup: Setup) -> None:
    setup.world.put_users(
        [
            {"id": 20_300, "username": "alice_x", "first_name": "Alice"},
            {"id": 20_301, "username": "bob_bot", "first_name": "Bob", "bot": True},
            {"id": 20_302, "username": "carol_x", "first_name": "Carol"},
        ]
    )
    # Carol is in the audience by id as well; "nobody_here" does not exist.
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "u", setup.people([20_302], seen_by_tg=901)
    )
    async with setup.sessionmaker() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO audience_usernames (audience_id, username_lower, username) VALUES "
                "(:a, 'alice_x', 'Alice_X'), (:a, 'bob_bot', 'bob_bot'), (:a, 'nobody_here', 'nobody_here'),"
                " (:a, 'carol_x', 'carol_x')"
            ),
            {"a": audience},
        )
    cid = await setup.campaign(audience, "target_group")
    await setup.engine().run_account(await setup.account(901))
    async with setup.sessionmaker() as s:
        rows = {
            (r.username or "").lower() if r.username else r.tg_user_id: (
                r.tg_user_id,
                str(r.state),
                r.reason,
            )
            for r in (
                await s.execute(
                    text(
                        "SELECT tg_user_id, username, state, reason FROM campaign_targets WHERE campaign_id = :c"
                    ),
                    {"c": cid},
                )
            ).all()
        }
    assert rows["alice_x"] == (20_300, "invited", None)
    assert rows["bob_bot"][1:] == ("skipped", "bot")
    assert rows["nobody_here"] == (None, "skipped", "user_not_found")
    assert rows["carol_x"][1:] == ("skipped", "duplicate")
    assert rows[20_302] == (20_302, "invited", None)
    assert await setup.status(cid) == "done"
    invited = sorted(u for _a, users, _e in setup.invite_calls() for u in users)
    assert invited == [20_300, 20_302]
    assert {20_300, 20_302} <= set(setup.world.find_chat(TARGET).members)


async def test_a_cooldown_shows_active_once_its_rest_is_over(setup: Setup, redis: Redis) -> None:
    from datetime import UTC, datetime, timedelta

    from core.dto import AccountStatus

    async with setup.sessionmaker() as s, s.begin():
        await s.execute(
            text(
                "UPDATE telegram_accounts SET status = 'cooldown', status_reason = 'FLOOD_WAIT_30', "
                "cooldown_until = :past WHERE id = :a"
            ),
            {"past": datetime.now(UTC) - timedelta(seconds=1), "a": setup.accounts[901]},
        )
        await s.execute(
            text(
                "UPDATE telegram_accounts SET status = 'cooldown', status_reason = 'FLOOD_WAIT_600', "
                "cooldown_until = :later WHERE id = :a"
            ),
            {"later": datetime.now(UTC) + timedelta(minutes=10), "a": setup.accounts[902]},
        )
    await watch(setup, redis, Notices()).tick()
    rested, resting = await setup.account(901), await setup.account(902)
    assert rested.status is AccountStatus.ACTIVE and rested.status_reason is None
    assert resting.status is AccountStatus.COOLDOWN
