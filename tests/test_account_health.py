"""The periodic account check records status changes and tells the owner."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import build_account_service
from core.dto import AccountStatus, TelegramProfile
from core.settings import Settings
from core.telegram import AccountInfo
from core.users import register
from db.dal import open_dal
from db.kv import NOTIFY_STREAM, RedisNotifier
from db.leases import LeaseStore
from gateway.telegram import TelegramGateway
from sandbox.world import InProcessClientFactory, World
from workers.health import check_all_accounts


async def _linked(world: World, gateway: TelegramGateway, sessionmaker, settings: Settings, ids: list[int]) -> dict[int, int]:  # type: ignore[no-untyped-def]
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
                dal, owner.id, ws, AccountInfo(tg_id, f"acc{tg_id}", "Acc", None), login.session_string()
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
    ids = await _linked(world, gateway, sessionmaker, settings, [fine, revoked, banned, flooded, busy])
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
