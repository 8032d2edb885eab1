"""`python -m workers`: a worker process (composition root).

APScheduler is only the timer; every durable fact lives in PostgreSQL, so any number of
worker processes can run side by side and a killed one loses nothing.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import Redis

from core.logs import get_logger, setup_logging
from core.settings import Settings, load_settings
from db.engine import create_engine, create_sessionmaker
from workers.heartbeat import beat, retire, worker_id

log = get_logger("workers")


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings.database_url, pool_size=5)
    redis = Redis.from_url(settings.redis_url)
    sessionmaker = create_sessionmaker(engine)
    me = worker_id()
    scheduler = AsyncIOScheduler(timezone=UTC)
    try:
        await redis.ping()
        started = datetime.now(UTC)
        beat_kwargs = {"worker": me, "started_at": started, "interval_s": settings.worker_heartbeat_s}
        await beat(redis, sessionmaker, **beat_kwargs)  # fail fast when storage is unreachable
        scheduler.add_job(
            beat,
            "interval",
            seconds=settings.worker_heartbeat_s,
            args=(redis, sessionmaker),
            kwargs=beat_kwargs,
            id="heartbeat",
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        log.info("worker started", worker=me, heartbeat_s=settings.worker_heartbeat_s)
        await stop.wait()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await retire(redis, me)
        await redis.aclose()
        await engine.dispose()
        log.info("worker stopped", worker=me)


def main() -> None:
    settings = load_settings()
    setup_logging("worker", level=settings.log_level, fmt=settings.log_format,
                  secrets=[settings.effective_bot_token])

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
