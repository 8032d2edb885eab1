"""Accounts used sparingly: a connection to Telegram only when the account has work it may do
now, one connected client for a stretch of work, no updates for workers, the target chat
resolved once per account."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import text

from core.limits import InviteLimits
from tests.invites.conftest import Setup, make_audience
from workers.inviting import InviteConfig

SLOW = InviteLimits(
    daily_per_account=1000,
    daily_per_chat=1000,
    lifetime_per_chat=1000,
    daily_per_target=1000,
    pause_min_s=600,
    pause_max_s=900,
)


def connects(setup: Setup) -> Counter[int | None]:
    """Connections made per logged-in account: each one starts with help.getConfig."""
    return Counter(c.account for c in setup.world.calls("GetConfigRequest"))


async def ticks(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        await engine.tick()
        await asyncio.sleep(0.01)


async def test_outside_the_active_hours_nobody_connects(setup: Setup) -> None:
    people = setup.people(range(15_001, 15_004), seen_by_tg=901)
    cid = await setup.campaign(
        await make_audience(setup.sessionmaker, setup.ws, "a", people), "target_group"
    )
    hour = datetime.now(UTC).hour
    async with setup.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE campaigns SET active_from_hour = :f, active_to_hour = :t WHERE id = :c"),
            {"f": (hour + 2) % 24, "t": (hour + 3) % 24, "c": cid},
        )
    before = connects(setup)
    engine = setup.engine()
    await ticks(engine, 30)
    assert connects(setup) == before  # decided in the database alone
    assert not engine._tasks and not setup.invite_calls()
    # Each account looks again when the hours begin, not every few seconds.
    for tg_id in (901, 902):
        resume = engine._resume_at[setup.accounts[tg_id]]
        assert resume.hour == (hour + 2) % 24 and resume.minute == 0


async def test_an_account_waiting_out_its_pause_stays_connected_once(setup: Setup) -> None:
    people = setup.people(range(15_101, 15_105), seen_by_tg=901) + setup.people(
        range(15_201, 15_205), seen_by_tg=902
    )
    cid = await setup.campaign(
        await make_audience(setup.sessionmaker, setup.ws, "a", people), "target_group"
    )
    before = connects(setup)
    engine = setup.engine(InviteConfig(limits=SLOW))
    await ticks(engine, 5)
    for _ in range(200):  # each account sends its first invite, then waits out a 10–15 min pause
        if len(setup.invite_calls()) >= 2 and not any(
            s == "unconfirmed" for s, _ in (await setup.targets(cid)).values()
        ):
            break
        await asyncio.sleep(0.02)
    await ticks(engine, 30)  # a minute of ticks during the pause
    held = set(engine._tasks)
    assert held == {setup.accounts[901], setup.accounts[902]}  # holding lease and client
    made = connects(setup) - before
    # 903 connected once to learn that it may not invite there (the campaign had no
    # pre-flight naming the eligible accounts), and never again.
    assert made == Counter({901: 1, 902: 1, 903: 1})
    assert Counter(c[0] for c in setup.invite_calls()) == {901: 1, 902: 1}
    await engine.close()  # SIGTERM: the waiting accounts let go at once
    assert not engine._tasks
    async with setup.sessionmaker() as session:
        leases = await session.scalar(
            text("SELECT count(*) FROM account_leases WHERE expires_at > now()")
        )
    assert leases == 0


async def test_the_target_is_resolved_once_per_account(setup: Setup) -> None:
    people = setup.people(range(15_301, 15_304), seen_by_tg=901)
    cid = await setup.campaign(
        await make_audience(setup.sessionmaker, setup.ws, "a", people), "target_group"
    )
    resolves_before = len(setup.world.calls("ResolveUsernameRequest"))
    engine = setup.engine()
    for _ in range(3):
        async with setup.sessionmaker() as session, session.begin():  # one more person each round
            await session.execute(text("UPDATE campaign_targets SET not_before = NULL"))
        await engine.run_account(await setup.account(901))
    assert len(setup.world.calls("ResolveUsernameRequest")) - resolves_before == 1
    async with setup.sessionmaker() as session:
        kept = (
            await session.execute(
                text("SELECT account_id, chat_id, access_hash FROM account_chats")
            )
        ).all()
    assert [(r.account_id, r.chat_id) for r in kept] == [(setup.accounts[901], 7_000_001)]
    assert kept[0].access_hash == setup.world.chat_hash(901, 7_000_001)
    assert await setup.status(cid) == "done"


async def test_workers_receive_no_updates(setup: Setup) -> None:
    """invokeWithoutUpdates (core.telegram.org/method/invokeWithoutUpdates): the account's
    connection asks Telegram for no updates, and nothing polls for them."""
    async with setup.gateway.account(await setup._session(901)) as client:
        raw = client._client
        assert raw._no_updates and raw._sender._updates_task is None
        assert (await client.me()).tg_user_id == 901  # and it works
    login = setup.gateway.qr_login()  # a login waits for UpdateLoginToken: it keeps updates
    try:
        assert await login.token() is not None
        assert not login._client._no_updates
    finally:
        await login.close()


async def test_usernames_are_resolved_at_a_conservative_pace(setup: Setup) -> None:
    setup.world.put_users(
        [{"id": 15_500 + i, "username": f"name{i}x", "first_name": "N"} for i in range(5)]
    )
    async with setup.sessionmaker() as session, session.begin():
        audience = await session.scalar(
            text(
                "INSERT INTO audiences (workspace_id, name, size) VALUES (:ws, 'u', 0) RETURNING id"
            ),
            {"ws": setup.ws},
        )
        await session.execute(
            text(
                "INSERT INTO audience_usernames (audience_id, username, username_lower) VALUES (:a, :u, :l)"
            ),
            [{"a": audience, "u": f"name{i}x", "l": f"name{i}x"} for i in range(5)],
        )
    cid = await setup.campaign(audience, "target_group")
    before = len([c for c in setup.world.calls("ResolveUsernameRequest") if c.account == 901])
    engine = setup.engine(
        InviteConfig(
            limits=InviteLimits(
                daily_per_account=1000,
                daily_per_chat=1000,
                lifetime_per_chat=1000,
                pause_min_s=1,
                pause_max_s=1,
            ),
            pause_scale=0,
            resolve_per_hour=2,
        )
    )
    await engine.run_account(await setup.account(901))
    await engine.run_account(await setup.account(901))
    people = [c for c in setup.world.calls("ResolveUsernameRequest") if c.account == 901]
    # the target once, then two people in the hour
    assert len(people) - before == 1 + 2
    targets = await setup.targets(cid)
    assert sum(1 for u in targets if u is not None) == 2


async def test_accounts_are_spread_over_live_workers(setup: Setup) -> None:
    """Three workers, twelve accounts: each worker takes its share, none takes them all."""
    from core.accounts import build_account_service
    from db.leases import LeaseStore
    from tests.invites.conftest import link_accounts
    from workers.inviting import InviteEngine

    ws, more = await link_accounts(
        setup.world, setup.gateway, setup.sessionmaker, setup.settings, range(911, 920)
    )
    assert ws == setup.ws
    everyone = {**setup.accounts, **more}
    chat = setup.world.find_chat(7_000_001)
    for tg_id in everyone:
        chat.admins[tg_id] = frozenset({"invite_users"})
        chat.members.setdefault(tg_id, chat.members[901])
    setup.world.put_users(
        [{"id": i, "first_name": "P", "username": f"w{i}"} for i in range(15_601, 15_661)]
    )
    audience = await make_audience(
        setup.sessionmaker, setup.ws, "a", [(i, f"w{i}", None, None) for i in range(15_601, 15_661)]
    )
    await setup.campaign(audience, "target_group")

    async def three() -> int:
        return 3

    engines = [
        InviteEngine(
            sessionmaker=setup.sessionmaker,
            gateway=setup.gateway,
            service=build_account_service(setup.settings, None),
            leases=LeaseStore(setup.sessionmaker, f"worker-{n}", ttl_s=30),
            config=InviteConfig(limits=SLOW),
            peers=three,
        )
        for n in range(3)
    ]
    try:
        for _ in range(4):
            for engine in engines:  # the first to tick does not take everything
                await engine.tick()
            await asyncio.sleep(0.3)
        held = [len(engine._tasks) for engine in engines]
        assert sum(held) == len(everyone) == 12
        assert min(held) > 0 and max(held) / min(held) <= 2, held
    finally:
        for engine in engines:
            await engine.close()
