"""Worker liveness: each worker process announces itself in Redis on a timer.

The admin stats and the operator can see which workers are alive; a worker that dies
simply stops refreshing its key and disappears after three missed beats.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.installation import WorkerBeat

ALIVE_PREFIX = "workers:alive:"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def beat(
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    worker: str,
    started_at: datetime,
    interval_s: int,
) -> None:
    async with sessionmaker() as session:
        await session.execute(text("SELECT 1"))
    info = {
        "worker": worker,
        "started_at": started_at.isoformat(),
        "beat_at": datetime.now(UTC).isoformat(),
    }
    await redis.set(ALIVE_PREFIX + worker, json.dumps(info), ex=interval_s * 3)


async def alive_workers(redis: Redis) -> list[dict[str, str]]:
    found = []
    async for key in redis.scan_iter(match=ALIVE_PREFIX + "*", count=100):
        raw = await redis.get(key)
        if raw:
            found.append(json.loads(raw))
    return sorted(found, key=lambda w: w["worker"])


async def live_worker_count(redis: Redis) -> int:
    """How many workers beat lately (this one included, once it has beaten)."""
    count = 0
    async for _key in redis.scan_iter(match=ALIVE_PREFIX + "*", count=100):
        count += 1
    return count


async def retire(redis: Redis, worker: str) -> None:
    await redis.delete(ALIVE_PREFIX + worker)


class RedisWorkerRegistry:
    """`core.interfaces.WorkerRegistry` over the heartbeat keys, for the admin stats."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def alive_workers(self) -> list[WorkerBeat]:
        return [
            WorkerBeat(w["worker"], w["started_at"], w["beat_at"])
            for w in await alive_workers(self._redis)
        ]
