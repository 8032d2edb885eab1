"""A worker process for the invite chaos test: the real engine, with short leases and no pauses.

Environment: DATABASE_URL (postgresql+asyncpg), SESSION_KEYS, SANDBOX_URL, REDIS_URL (the
installation-wide invite counters of /metrics).
Exits when no campaign is working any more; SIGTERM stops it the way `python -m workers` does.
"""

from __future__ import annotations

import asyncio
import os
import signal

from redis.asyncio import Redis

from core.accounts import AccountService
from core.limits import InviteLimits
from core.secretbox import SessionCipher
from core.settings import parse_session_keys
from db.dal_invites import InviteDal
from db.engine import create_engine, create_sessionmaker
from db.leases import LeaseStore, process_owner
from db.metrics import invite_counter
from gateway.telegram import TelegramGateway
from sandbox.world import SandboxClientFactory
from workers.inviting import InviteConfig, InviteEngine

LEASE_TTL_S = 2.0
CONFIG = InviteConfig(
    limits=InviteLimits(
        daily_per_account=10_000,
        daily_per_chat=10_000,
        lifetime_per_chat=10_000,
        daily_per_target=10_000,
        pause_min_s=1,
        pause_max_s=1,
    ),
    pause_scale=0,
    claim_ttl_s=LEASE_TTL_S,
    call_margin_s=0.5,
    quarantine_s=3.0,
    concurrency=8,
    idle_retry_s=0.3,
    stop_grace_s=2.0,
)


async def main() -> None:
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=5)
    redis = Redis.from_url(os.environ["REDIS_URL"])
    sessionmaker = create_sessionmaker(engine)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    inviter = InviteEngine(
        sessionmaker=sessionmaker,
        gateway=TelegramGateway(
            SandboxClientFactory(os.environ["SANDBOX_URL"], flood_sleep_threshold=0)
        ),
        service=AccountService(SessionCipher(parse_session_keys(os.environ["SESSION_KEYS"])), None),
        leases=LeaseStore(sessionmaker, f"chaos:{process_owner()}", ttl_s=LEASE_TTL_S),
        config=CONFIG,
        attempts=invite_counter(redis),
    )
    try:
        while not stop.is_set():
            await inviter.tick()
            async with sessionmaker() as session:
                if not await InviteDal(session).working_campaigns():
                    break
            await asyncio.sleep(0.1)
    finally:
        await inviter.close()
        await redis.aclose()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
