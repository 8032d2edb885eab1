"""`python -m workers`: a worker process (composition root).

APScheduler is only the timer; every durable fact lives in PostgreSQL, so any number of
worker processes can run side by side and a killed one loses nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import AccountService, build_account_service, rotate_session_keys
from core.brake import brake_rules
from core.limits import limits_from
from core.logs import get_logger, setup_logging
from core.runtime import freeze_startup_heap
from core.secretbox import SessionCipher
from core.settings import Settings, load_settings, parse_session_keys
from db.dal import open_dal
from db.engine import create_engine, create_sessionmaker
from db.kv import RedisNotifier, connect_redis
from db.leases import LeaseStore, leases_for
from db.metrics import invite_counter, telegram_error_counter
from gateway.telegram import TelegramGateway, client_factory
from workers.campaign_watch import CampaignWatch
from workers.health import check_all_accounts
from workers.heartbeat import beat, live_worker_count, retire, worker_id
from workers.inviting import InviteConfig, InviteEngine
from workers.outage import DatabaseWatch
from workers.parsing import EngineConfig, ParseEngine
from workers.retention import RetentionJob

log = get_logger("workers")
# Let a freshly started installation settle before the first round of checks.
ACCOUNT_CHECK_DELAY_S = 5
# How often free parse slots look for queued tasks.
PARSE_TICK_S = 1.0
# How often idle accounts are matched with working invite campaigns.
INVITE_TICK_S = 2.0
CAMPAIGN_WATCH_S = 3.0
# How often invited people due for their day or week check are looked for.
RETENTION_CHECK_S = 600.0


@dataclass(frozen=True, slots=True)
class Parts:
    """What every job of a worker process shares: built once per process."""

    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    notifier: RedisNotifier
    service: AccountService
    gateway: TelegramGateway
    # One lease owner per process: its jobs never use one account at the same time.
    leases: LeaseStore
    # One probe for the whole process while PostgreSQL is away; work resumes when it answers.
    outage: DatabaseWatch


def wire(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis) -> Parts:
    notifier = RedisNotifier(redis)
    return Parts(
        sessionmaker=sessionmaker,
        redis=redis,
        notifier=notifier,
        service=build_account_service(settings, notifier),
        gateway=TelegramGateway(client_factory(settings)),
        leases=leases_for(settings, sessionmaker, "worker"),
        outage=DatabaseWatch(sessionmaker),
    )


def invite_engine(settings: Settings, parts: Parts) -> InviteEngine:
    limits = limits_from(settings)
    return InviteEngine(
        sessionmaker=parts.sessionmaker,
        gateway=parts.gateway,
        service=parts.service,
        leases=parts.leases,
        config=InviteConfig(
            limits=limits,
            claim_ttl_s=settings.account_lease_ttl_s,
            resolve_per_hour=settings.username_resolves_per_hour,
        ),
        attempts=invite_counter(parts.redis),
        errors=telegram_error_counter(parts.redis),
        notifier=parts.notifier,
        peers=lambda: live_worker_count(parts.redis),
        outage=parts.outage,
    )


def parse_engine(settings: Settings, parts: Parts) -> ParseEngine:
    return ParseEngine(
        sessionmaker=parts.sessionmaker,
        gateway=parts.gateway,
        service=parts.service,
        leases=parts.leases,
        notifier=parts.notifier,
        owner=parts.leases.owner,
        config=EngineConfig(
            concurrency=settings.parse_concurrency,
            claim_ttl_s=settings.parse_claim_ttl_s,
            delay_scale=settings.parse_delay_scale,
            flood_buffer_s=settings.flood_buffer_s,
            peer_flood_park_s=settings.peer_flood_park_s,
        ),
        outage=parts.outage,
    )


def _every(
    scheduler: AsyncIOScheduler,
    seconds: float,
    func: Callable[..., Any],
    job_id: str,
    *,
    outage: DatabaseWatch | None = None,
    **options: Any,
) -> None:
    """An interval job that never overlaps itself; missed runs collapse into one. With
    `outage`, it skips its turns quietly while the database is away."""
    if outage is not None:
        func = outage.guard(func)
    scheduler.add_job(
        func, "interval", seconds=seconds, id=job_id, max_instances=1, coalesce=True, **options
    )


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings.database_url, pool_size=5)
    redis = connect_redis(settings.redis_url)
    sessionmaker = create_sessionmaker(engine)
    me = worker_id()
    scheduler = AsyncIOScheduler(timezone=UTC)
    parser: ParseEngine | None = None
    inviter: InviteEngine | None = None
    outage: DatabaseWatch | None = None
    try:
        await redis.ping()
        started = datetime.now(UTC)
        # Handed to the scheduler as keyword arguments, so typed as such.
        beat_kwargs: dict[str, Any] = {
            "worker": me,
            "started_at": started,
            "interval_s": settings.worker_heartbeat_s,
        }
        await beat(redis, sessionmaker, **beat_kwargs)  # fail fast when storage is unreachable
        parts = wire(settings, sessionmaker, redis)
        outage = parts.outage
        _every(
            scheduler,
            settings.worker_heartbeat_s,
            beat,
            "heartbeat",
            outage=outage,
            args=(redis, sessionmaker),
            kwargs=beat_kwargs,
        )
        _every(
            scheduler,
            settings.account_check_interval_s,
            check_all_accounts,
            "account-health",
            outage=outage,
            kwargs={
                "sessionmaker": sessionmaker,
                "service": parts.service,
                "gateway": parts.gateway,
                "leases": parts.leases,
                "flood_buffer_s": settings.flood_buffer_s,
            },
            next_run_time=datetime.now(UTC) + timedelta(seconds=ACCOUNT_CHECK_DELAY_S),
        )
        parser = parse_engine(settings, parts)
        # One job fills the free task slots; the tasks themselves run outside the scheduler.
        _every(
            scheduler,
            PARSE_TICK_S,
            parser.tick,
            "parse-tasks",
            outage=outage,
            next_run_time=datetime.now(UTC),
        )
        inviter = invite_engine(settings, parts)
        _every(
            scheduler,
            INVITE_TICK_S,
            inviter.tick,
            "invite-campaigns",
            outage=outage,
            next_run_time=datetime.now(UTC),
        )
        watch = CampaignWatch(
            sessionmaker=sessionmaker,
            redis=redis,
            notifier=parts.notifier,
            limits=limits_from(settings),
            brake=brake_rules(settings),
        )
        _every(
            scheduler,
            CAMPAIGN_WATCH_S,
            watch.tick,
            "campaign-watch",
            outage=outage,
            next_run_time=datetime.now(UTC),
        )
        # Yesterday's report (UTC) for each workspace that invited; sent once across workers.
        scheduler.add_job(
            watch.daily_reports,
            "cron",
            hour=0,
            minute=5,
            id="daily-report",
            max_instances=1,
            coalesce=True,
        )
        retention = RetentionJob(
            sessionmaker=sessionmaker,
            gateway=parts.gateway,
            service=parts.service,
            leases=parts.leases,
            notifier=parts.notifier,
            retention_days=settings.audience_retention_days,
            flood_buffer_s=settings.flood_buffer_s,
        )
        _every(
            scheduler,
            RETENTION_CHECK_S,
            retention.check_members,
            "retention-checks",
            outage=outage,
            next_run_time=datetime.now(UTC) + timedelta(seconds=ACCOUNT_CHECK_DELAY_S),
        )
        # Unused audiences: notices a week ahead, then deletion; safe to run in every worker.
        scheduler.add_job(
            outage.guard(retention.audiences),
            "cron",
            hour=3,
            minute=30,
            id="audience-retention",
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        freeze_startup_heap()
        log.info("worker started", worker=me, heartbeat_s=settings.worker_heartbeat_s)
        await stop.wait()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        if outage is not None:
            await outage.close()  # work waiting for the database stops waiting
        if parser is not None:
            await parser.close()  # running tasks hand their claims over at once
        if inviter is not None:
            await inviter.close()  # in-flight invites finish and are recorded, or go back
        await retire(redis, me)
        await redis.aclose()
        await engine.dispose()
        log.info("worker stopped", worker=me)


async def rotate_keys(settings: Settings) -> int:
    """Re-seal every linked session under the newest key of SESSION_KEYS."""
    cipher = SessionCipher(parse_session_keys(settings.session_keys.get_secret_value()))
    engine = create_engine(settings.database_url, pool_size=2)
    try:
        done, failed = await rotate_session_keys(
            lambda: open_dal(create_sessionmaker(engine)), cipher
        )
    finally:
        await engine.dispose()
    print(
        f"tg-inviter: re-sealed {done} session(s) under key {cipher.current_key_id!r}; "
        f"{failed} could not be decrypted with the configured keys"
    )
    return 1 if failed else 0


async def check_accounts_once(settings: Settings) -> int:
    """One round of account health checks, then exit (for operators and tests)."""
    engine = create_engine(settings.database_url, pool_size=2)
    redis = connect_redis(settings.redis_url)
    sessionmaker = create_sessionmaker(engine)
    parts = wire(settings, sessionmaker, redis)
    try:
        counts = await check_all_accounts(
            sessionmaker=sessionmaker,
            service=parts.service,
            gateway=parts.gateway,
            leases=parts.leases,
            flood_buffer_s=settings.flood_buffer_s,
        )
    finally:
        await redis.aclose()
        await engine.dispose()
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no accounts"
    print(f"tg-inviter: accounts checked ({summary})")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m workers", description="tg-inviter worker process"
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "rotate-session-keys", "check-accounts"),
        help="run: work (default); rotate-session-keys: re-seal sessions under the newest key; "
        "check-accounts: check every linked account once",
    )
    args = parser.parse_args()
    settings = load_settings()
    setup_logging(
        "worker",
        level=settings.log_level,
        fmt=settings.log_format,
        secrets=[settings.effective_bot_token],
    )
    if args.command == "rotate-session-keys":
        raise SystemExit(asyncio.run(rotate_keys(settings)))
    if args.command == "check-accounts":
        raise SystemExit(asyncio.run(check_accounts_once(settings)))

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
