"""The periodic account check records status changes and tells the owner; @SpamBot and
help.getAppConfig (through the sandbox's world) decide about restricted and frozen accounts."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.dto import AccountDTO, AccountStatus, TelegramProfile
from core.settings import Settings
from core.telegram import AccountInfo
from core.users import register
from db.dal import open_dal
from db.kv import NOTIFY_STREAM, RedisNotifier
from db.leases import LeaseStore
from db.models import TelegramAccount
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World
from sandbox.world.world import SPAMBOT_ID
from workers.health import check_all_accounts


async def _linked(
    world: World, gateway: TelegramGateway, sessionmaker, settings: Settings, ids: list[int]
) -> dict[int, int]:  # type: ignore[no-untyped-def]
    async with open_dal(sessionmaker) as dal:
        owner, _ = await register(dal, TelegramProfile(555, "boss", "Boss", None, "en"), ())
        ws = (await dal.list_workspaces(owner.id))[0].id
    service = build_account_service(settings, None)
    accounts = {}
    for tg_id in ids:
        world.put_users([{"id": tg_id, "username": f"acc{tg_id}", "first_name": "Acc"}])
        login = gateway.qr_login()
        token = await login.token()
        waiter = asyncio.create_task(login.wait(5))
        await asyncio.sleep(0.02)
        world.scan_qr(token.url, tg_id)
        await waiter
        async with open_dal(sessionmaker) as dal:
            account, _ = await service.link(
                dal,
                owner.id,
                ws,
                AccountInfo(tg_id, f"acc{tg_id}", "Acc", None),
                login.session_string(),
            )
        await login.close()
        accounts[tg_id] = account.id
    return accounts


async def test_statuses_follow_telegram(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings
) -> None:
    world = World()
    gateway = TelegramGateway(InProcessClientFactory(world))
    fine, revoked, banned, flooded, busy = 801, 802, 803, 804, 805
    ids = await _linked(
        world, gateway, sessionmaker, settings, [fine, revoked, banned, flooded, busy]
    )
    # a revoked or banned session fails every call (Telethon itself makes some on connect)
    world.add_fault("GetUsersRequest", "AUTH_KEY_UNREGISTERED", 10, account=revoked)
    world.add_fault("GetUsersRequest", "USER_DEACTIVATED_BAN", 10, account=banned)
    world.add_fault("GetUsersRequest", "FLOOD_WAIT_120", 1, account=flooded)
    leases = LeaseStore(sessionmaker, "worker-test", ttl_s=30)
    other = LeaseStore(sessionmaker, "someone-else", ttl_s=30)
    assert await other.acquire(ids[busy]) is not None
    calls_before = len(world.calls("GetUsersRequest"))

    counts = await check_all_accounts(
        sessionmaker=sessionmaker,
        service=build_account_service(settings, RedisNotifier(redis)),
        gateway=gateway,
        leases=leases,
        flood_buffer_s=60,
    )
    assert counts == {"active": 1, "unauthorized": 1, "banned": 1, "cooldown": 1, "busy": 1}
    async with open_dal(sessionmaker) as dal:
        by_id = {a.id: a for a in await dal.all_accounts(after_id=0, limit=10)}
    assert by_id[ids[fine]].status is AccountStatus.ACTIVE
    assert by_id[ids[revoked]].status is AccountStatus.UNAUTHORIZED
    assert by_id[ids[revoked]].status_reason == "AUTH_KEY_UNREGISTERED"
    assert by_id[ids[banned]].status is AccountStatus.BANNED
    cooled = by_id[ids[flooded]]
    assert cooled.status is AccountStatus.COOLDOWN and cooled.cooldown_until is not None
    assert 170 <= (cooled.cooldown_until - datetime.now(UTC)).total_seconds() <= 181
    # the worker's calls were made as each account, one connection each
    checked = world.calls("GetUsersRequest")[calls_before:]
    assert {c.account for c in checked} == {fine, revoked, banned, flooded}  # not the busy one

    entries = await redis.xrange(NOTIFY_STREAM)
    notices = [(int(f[b"telegram_id"]), json.loads(f[b"payload"])) for _, f in entries]
    assert sorted(n[1]["status"] for n in notices) == ["banned", "cooldown", "unauthorized"]
    assert {n[0] for n in notices} == {555}

    # a second round changes nothing and tells nobody again
    await check_all_accounts(
        sessionmaker=sessionmaker,
        service=build_account_service(settings, RedisNotifier(redis)),
        gateway=gateway,
        leases=leases,
        flood_buffer_s=60,
    )
    assert len(await redis.xrange(NOTIFY_STREAM)) == 3


# --- @SpamBot and frozen accounts -----------------------------------------------------------
async def _round(
    sessionmaker, settings: Settings, redis: Redis, gateway: TelegramGateway
) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return await check_all_accounts(
        sessionmaker=sessionmaker,
        service=build_account_service(settings, RedisNotifier(redis)),
        gateway=gateway,
        leases=LeaseStore(sessionmaker, "worker-test", ttl_s=30),
        flood_buffer_s=60,
    )


async def _accounts(sessionmaker) -> dict[int, AccountDTO]:  # type: ignore[no-untyped-def]
    async with open_dal(sessionmaker) as dal:
        return {a.tg_user_id: a for a in await dal.all_accounts(after_id=0, limit=50)}


async def _set_status(
    sessionmaker,
    settings: Settings,
    account_id: int,
    status: AccountStatus,  # type: ignore[no-untyped-def]
    reason: str | None,
    until: datetime | None = None,
) -> None:
    """What the invite engine records when Telegram refuses (nobody is told here)."""
    async with open_dal(sessionmaker) as dal:
        await build_account_service(settings, None).change_status(
            dal, account_id, status, reason, cooldown_until=until
        )


async def _spambot_calls(world: World, account: int) -> list[object]:
    return [
        c
        for c in world.calls("SendMessageRequest")
        if c.account == account and SPAMBOT_ID in c.users
    ]


async def _notices(redis: Redis) -> list[dict[str, str]]:
    return [json.loads(f[b"payload"]) for _, f in await redis.xrange(NOTIFY_STREAM)]


async def test_parked_account_after_its_rest_asks_spambot_once_a_day(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings
) -> None:
    world = World()
    gateway = TelegramGateway(InProcessClientFactory(world))
    rested, resting, forever = 811, 812, 813
    ids = await _linked(world, gateway, sessionmaker, settings, [rested, resting, forever])
    now = datetime.now(UTC)
    await _set_status(
        sessionmaker,
        settings,
        ids[rested],
        AccountStatus.PARKED,
        "PEER_FLOOD",
        now - timedelta(minutes=1),
    )
    await _set_status(
        sessionmaker,
        settings,
        ids[resting],
        AccountStatus.PARKED,
        "PEER_FLOOD",
        now + timedelta(hours=20),
    )
    await _set_status(
        sessionmaker,
        settings,
        ids[forever],
        AccountStatus.PARKED,
        "PEER_FLOOD",
        now - timedelta(minutes=1),
    )
    world.put_user(forever, spam_limited_until="forever")
    await _age_last_check(sessionmaker, ids[rested], hours=2)  # looked at during its rest

    counts = await _round(sessionmaker, settings, redis, gateway)
    assert counts == {"active": 1, "parked": 1, "restricted": 1}
    accounts = await _accounts(sessionmaker)
    assert (
        accounts[rested].status is AccountStatus.ACTIVE and accounts[rested].status_reason is None
    )
    assert accounts[resting].status is AccountStatus.PARKED  # still resting: SpamBot not asked
    limited = accounts[forever]
    assert limited.status is AccountStatus.RESTRICTED
    assert limited.status_reason == "spambot_limited" and limited.cooldown_until is None
    # one /start each, sent to @SpamBot by the account itself, read back with getHistory
    assert len(await _spambot_calls(world, rested)) == 1
    assert len(await _spambot_calls(world, forever)) == 1
    assert await _spambot_calls(world, resting) == []
    assert {c.account for c in world.calls("GetHistoryRequest")} == {rested, forever}
    assert sorted((n["account"], n["status"]) for n in await _notices(redis)) == [
        ("@acc811", "active"),
        ("@acc813", "restricted"),
    ]

    # the same day again: no second question to SpamBot, the restricted one is left alone
    counts = await _round(sessionmaker, settings, redis, gateway)
    assert counts == {"active": 1, "parked": 1, "later": 1}
    assert len(await _spambot_calls(world, rested)) == 1
    assert len(await _spambot_calls(world, forever)) == 1
    assert len(await _notices(redis)) == 2


async def test_restricted_account_stays_restricted_until_spambot_frees_it(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings
) -> None:
    world = World()
    gateway = TelegramGateway(InProcessClientFactory(world))
    banned_in_channel = 821
    ids = await _linked(world, gateway, sessionmaker, settings, [banned_in_channel])
    account_id = ids[banned_in_channel]
    await _set_status(
        sessionmaker, settings, account_id, AccountStatus.RESTRICTED, "USER_BANNED_IN_CHANNEL"
    )
    limit_end = (datetime.now(UTC) + timedelta(days=9)).replace(second=0, microsecond=0)
    world.put_user(banned_in_channel, spam_limited_until=limit_end)

    # checked less than a day ago (the status was set just now, after a check): not asked yet
    async with sessionmaker() as s, s.begin():
        await s.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(last_checked_at=func.now())
        )
    assert await _round(sessionmaker, settings, redis, gateway) == {"later": 1}
    assert await _spambot_calls(world, banned_in_channel) == []

    await _age_last_check(sessionmaker, account_id, hours=25)
    assert await _round(sessionmaker, settings, redis, gateway) == {"restricted": 1}
    account = (await _accounts(sessionmaker))[banned_in_channel]
    assert account.status is AccountStatus.RESTRICTED
    assert account.status_reason == "USER_BANNED_IN_CHANNEL"  # Telegram's error still names it
    assert account.cooldown_until == limit_end  # the date SpamBot gave
    assert len(await _spambot_calls(world, banned_in_channel)) == 1
    assert await _notices(redis) == []  # nothing changed for the owner

    assert await _round(sessionmaker, settings, redis, gateway) == {"later": 1}
    assert len(await _spambot_calls(world, banned_in_channel)) == 1

    # a day later Telegram has lifted the limit
    world.put_user(banned_in_channel, spam_limited_until=None)
    await _age_last_check(sessionmaker, account_id, hours=24)
    assert await _round(sessionmaker, settings, redis, gateway) == {"active": 1}
    account = (await _accounts(sessionmaker))[banned_in_channel]
    assert account.status is AccountStatus.ACTIVE and account.cooldown_until is None
    assert [(n["status"], n["reason"]) for n in await _notices(redis)] == [("active", "")]


async def test_frozen_account_is_recognised_and_active_again_when_lifted(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, settings: Settings
) -> None:
    world = World()
    gateway = TelegramGateway(InProcessClientFactory(world))
    frozen, fine = 831, 832
    ids = await _linked(world, gateway, sessionmaker, settings, [frozen, fine])
    deletion = datetime(2027, 3, 1, 12, 30, tzinfo=UTC)
    world.put_user(frozen, frozen_until=deletion)

    assert await _round(sessionmaker, settings, redis, gateway) == {"frozen": 1, "active": 1}
    account = (await _accounts(sessionmaker))[frozen]
    assert account.status is AccountStatus.FROZEN
    assert account.status_reason == "frozen_until:2027-03-01T12:30Z"
    assert {c.account for c in world.calls("GetAppConfigRequest")} == {frozen, fine}
    assert [(n["account"], n["status"]) for n in await _notices(redis)] == [("@acc831", "frozen")]
    # the frozen account never wrote to SpamBot: it cannot, and the freeze says more
    assert world.calls("SendMessageRequest") == []

    # the invite engine saw FROZEN_METHOD_INVALID before the world's fields were read: same end
    await _set_status(
        sessionmaker, settings, ids[fine], AccountStatus.FROZEN, "FROZEN_METHOD_INVALID"
    )
    world.put_user(frozen, frozen_until=None)
    assert await _round(sessionmaker, settings, redis, gateway) == {"active": 2}
    accounts = await _accounts(sessionmaker)
    assert all(
        a.status is AccountStatus.ACTIVE and a.status_reason is None for a in accounts.values()
    )
    assert [n["status"] for n in await _notices(redis)] == ["frozen", "active", "active"]

    # Telegram refuses the check itself with FROZEN_METHOD_INVALID (Telethon's connect() reads
    # the account first): the error alone freezes the account
    world.add_fault("GetUsersRequest", "FROZEN_METHOD_INVALID", 1, account=fine)
    assert await _round(sessionmaker, settings, redis, gateway) == {"active": 1, "frozen": 1}
    refused = (await _accounts(sessionmaker))[fine]
    assert (refused.status, refused.status_reason) == (
        AccountStatus.FROZEN,
        "FROZEN_METHOD_INVALID",
    )
    assert [c.error for c in world.calls("GetUsersRequest") if c.account == fine][
        -1
    ] == "FROZEN_METHOD_INVALID"


async def _age_last_check(sessionmaker, account_id: int, *, hours: int) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker() as s, s.begin():
        await s.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(last_checked_at=func.now() - timedelta(hours=hours))
        )
