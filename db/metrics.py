"""Numbers for `/metrics` that no single process holds: shared counters in Redis and
aggregates of PostgreSQL, both read by whichever API process is scraped.

The bot, the API and the workers are separate processes (several of each), so a counter in
one process's memory is invisible to the API that answers the scrape. Two sources instead:

- PostgreSQL for what its rows already say: tasks, campaigns and accounts by status, the
  people parse tasks collected, lease handovers (every acquisition bumps a lease's epoch).
  These tables stay small (one row per job, campaign, account), so the aggregates are cheap.
- Redis hashes for events no small table counts: invite attempts (`invite_events` grows
  without bound and has no index by outcome, and no migration may add one) and bot update
  timings. The process that did the work adds to them (`HINCRBY` is atomic, so every
  process adds to the same numbers), after its own commit, so nothing is counted that did
  not happen. A crash between the commit and the increment loses one count; a Redis restart
  starts the counters from zero, which Prometheus reads as a counter reset.

Writers never fail the work they measure: a Redis error is logged and the count dropped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.logs import get_logger

log = get_logger(__name__)

INVITES_KEY = "metrics:invites"  # fields: [outcome, reason]
TELEGRAM_ERRORS_KEY = "metrics:telegram_errors"  # fields: [error, concerns]
BOT_UPDATES_KEY = "metrics:bot_updates"  # fields: [update type, outcome, bucket bound | "sum"]
BOT_UPDATE_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SUM = "sum"
_INF = "+Inf"

Labels = tuple[str, ...]


def _field(labels: Sequence[str]) -> str:
    """A hash field for label values: JSON, so no value can be mistaken for a separator."""
    return json.dumps(list(labels), ensure_ascii=False)


def _labels(raw: bytes | str) -> Labels:
    return tuple(json.loads(raw))


def _bound(value: float) -> str:
    return _INF if math.isinf(value) else repr(float(value))


class RedisCounter:
    """Counters by label values in one Redis hash, added to by any process."""

    def __init__(self, redis: Redis, key: str) -> None:
        self._redis = redis
        self.key = key

    async def inc(self, labels: Sequence[str], amount: int = 1) -> None:
        try:
            await self._redis.hincrby(self.key, _field(labels), amount)
        except (RedisError, OSError) as exc:
            log.warning("metric not recorded", key=self.key, error=type(exc).__name__)

    async def read(self) -> dict[Labels, int]:
        raw = await self._redis.hgetall(self.key)
        return {_labels(k): int(v) for k, v in raw.items()}


@dataclass(slots=True)
class HistogramCounts:
    """One label set of a histogram: observations per bucket (not cumulative) and their sum."""

    buckets: dict[float, int] = field(default_factory=dict)
    sum: float = 0.0

    def cumulative(self, bounds: Sequence[float]) -> list[tuple[str, int]]:
        """(`le`, observations at or below it) for every bound and +Inf, as Prometheus wants."""
        total, out = 0, []
        for bound in (*bounds, math.inf):
            total += self.buckets.get(bound, 0)
            out.append((_bound(bound), total))
        return out


class RedisHistogram:
    """A histogram whose buckets live in a Redis hash, so every process observes into one."""

    def __init__(self, redis: Redis, key: str, bounds: Sequence[float]) -> None:
        self._redis = redis
        self.key = key
        self.bounds = tuple(sorted(bounds))

    async def observe(self, labels: Sequence[str], seconds: float) -> None:
        bound = next((b for b in self.bounds if seconds <= b), math.inf)
        try:
            # MULTI: a scrape never sees a bucket counted without its share of the sum.
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(self.key, _field([*labels, _bound(bound)]), 1)
                pipe.hincrbyfloat(self.key, _field([*labels, _SUM]), seconds)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("metric not recorded", key=self.key, error=type(exc).__name__)

    async def read(self) -> dict[Labels, HistogramCounts]:
        out: dict[Labels, HistogramCounts] = {}
        for raw, value in (await self._redis.hgetall(self.key)).items():
            *labels, last = _labels(raw)
            counts = out.setdefault(tuple(labels), HistogramCounts())
            if last == _SUM:
                counts.sum = float(value)
            else:
                counts.buckets[float(last)] = int(value)
        return out


def invite_counter(redis: Redis) -> RedisCounter:
    """Invite attempts by (outcome, reason), as written to `invite_events`."""
    return RedisCounter(redis, INVITES_KEY)


def telegram_error_counter(redis: Redis) -> RedisCounter:
    """Telegram's refusals of invites by error name (`error_family`) and whom they concern."""
    return RedisCounter(redis, TELEGRAM_ERRORS_KEY)


def error_family(rpc: str) -> str:
    """Telegram's error name with its number folded (FLOOD_WAIT_30 → FLOOD_WAIT_X), so a
    metric label takes one value per kind of error, not one per second of waiting."""
    return re.sub(r"_\d+$", "_X", rpc)[:64]


def bot_update_histogram(redis: Redis) -> RedisHistogram:
    """Time the bot spent on each update, by (update type, outcome)."""
    return RedisHistogram(redis, BOT_UPDATES_KEY, BOT_UPDATE_BUCKETS)


# --- PostgreSQL ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredCounts:
    """What the rows say at one moment (one read-only transaction)."""

    parse_tasks: dict[str, int]  # status -> tasks
    parse_collected: dict[str, int]  # kind -> people that passed the filters
    parse_new_members: dict[str, int]  # kind -> of those, new to their audience
    campaigns: dict[str, int]  # status -> campaigns
    accounts: dict[str, int]  # status -> linked accounts
    lease_acquisitions: int  # sum of lease epochs: every acquisition bumps one
    leases_held: int  # leases not expired now


_PARSE = text(
    """SELECT status::text AS status, kind::text AS kind, count(*) AS n,
              coalesce(sum(collected), 0) AS collected, coalesce(sum(new_members), 0) AS new_members
         FROM parse_tasks GROUP BY status, kind"""
)
_CAMPAIGNS = text("SELECT status::text AS status, count(*) AS n FROM campaigns GROUP BY status")
_ACCOUNTS = text(
    "SELECT status::text AS status, count(*) AS n FROM telegram_accounts GROUP BY status"
)
_LEASES = text(
    """SELECT coalesce(sum(epoch), 0) AS epochs,
              count(*) FILTER (WHERE expires_at > clock_timestamp()) AS held
         FROM account_leases"""
)


async def read_stored_counts(session: AsyncSession, *, timeout_ms: int) -> StoredCounts:
    """The aggregates, each query cut off after `timeout_ms` by the server itself (a
    client-side timeout alone would leave a slow query running on after the scrape)."""
    async with session.begin():
        await session.execute(text("SET TRANSACTION READ ONLY"))
        await session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
        parse_rows = (await session.execute(_PARSE)).all()
        campaigns = {str(r.status): int(r.n) for r in (await session.execute(_CAMPAIGNS)).all()}
        accounts = {str(r.status): int(r.n) for r in (await session.execute(_ACCOUNTS)).all()}
        leases = (await session.execute(_LEASES)).one()
    tasks: dict[str, int] = {}
    collected: dict[str, int] = {}
    new_members: dict[str, int] = {}
    for r in parse_rows:
        tasks[str(r.status)] = tasks.get(str(r.status), 0) + int(r.n)
        collected[str(r.kind)] = collected.get(str(r.kind), 0) + int(r.collected)
        new_members[str(r.kind)] = new_members.get(str(r.kind), 0) + int(r.new_members)
    return StoredCounts(
        tasks, collected, new_members, campaigns, accounts, int(leases.epochs), int(leases.held)
    )
