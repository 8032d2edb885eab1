"""The installation's metrics for `/metrics`, read from shared storage at scrape time.

This process's own registry holds only what happens in it (API latency, process figures).
Everything the bot and the workers do is read here from PostgreSQL and Redis
(`db/metrics.py`), so any API process answers a scrape with the same installation-wide
numbers. The reads are asynchronous and prometheus_client collectors are not, so the
numbers are read first and handed to a collector built for this one scrape. Each source
has its own timeout; one that fails leaves its families out and shows
`tg_inviter_metrics_source_up{source=...} 0` instead of failing the whole scrape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.campaigns import CampaignStatus
from core.dto import AccountStatus
from core.logs import get_logger
from core.parsing import ParseKind, ParseStatus
from db.metrics import (
    StoredCounts,
    bot_update_histogram,
    invite_counter,
    read_stored_counts,
    telegram_error_counter,
)

log = get_logger(__name__)

SOURCE_TIMEOUT_S = 2.0
_PREFIX = "tg_inviter_"


class SnapshotCollector(Collector):
    """Hands prometheus_client metric families that were read before the scrape."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def _by_status(
    name: str, doc: str, counts: dict[str, int], statuses: Iterable[str]
) -> GaugeMetricFamily:
    """Every known status appears, at 0 when nothing has it, so a query never finds a gap."""
    family = GaugeMetricFamily(_PREFIX + name, doc, labels=["status"])
    for status in dict.fromkeys([*statuses, *counts]):
        family.add_metric([status], counts.get(status, 0))
    return family


def _per_kind(name: str, doc: str, counts: dict[str, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(_PREFIX + name, doc, labels=["kind"])
    for kind in dict.fromkeys([*(k.value for k in ParseKind), *counts]):
        family.add_metric([kind], counts.get(kind, 0))
    return family


def stored_families(counts: StoredCounts) -> list[Metric]:
    handovers = CounterMetricFamily(
        _PREFIX + "lease_handovers",
        "Account lease acquisitions by any process (each one bumps the lease's epoch)",
    )
    handovers.add_metric([], counts.lease_acquisitions)
    held = GaugeMetricFamily(_PREFIX + "leases_held", "Account leases held (not expired) now")
    held.add_metric([], counts.leases_held)
    return [
        _by_status(
            "parse_tasks",
            "Parse tasks by status",
            counts.parse_tasks,
            (s.value for s in ParseStatus),
        ),
        _per_kind(
            "parse_collected",
            "People collected by parse tasks (passed the filters)",
            counts.parse_collected,
        ),
        _per_kind(
            "parse_new_members",
            "Collected people who were new to their audience",
            counts.parse_new_members,
        ),
        _by_status(
            "campaigns",
            "Invite campaigns by status",
            counts.campaigns,
            (s.value for s in CampaignStatus),
        ),
        _by_status(
            "accounts",
            "Linked Telegram accounts by status",
            counts.accounts,
            (s.value for s in AccountStatus),
        ),
        handovers,
        held,
    ]


async def _from_postgresql(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Metric]:
    async with sessionmaker() as session:
        counts = await read_stored_counts(session, timeout_ms=int(SOURCE_TIMEOUT_S * 1000))
    return stored_families(counts)


async def _from_redis(redis: Redis) -> list[Metric]:
    invites = CounterMetricFamily(
        _PREFIX + "invites",
        "Invite attempts recorded, by outcome and reason",
        labels=["outcome", "reason"],
    )
    for (outcome, reason), n in sorted((await invite_counter(redis).read()).items()):
        invites.add_metric([outcome, reason], n)
    refusals = CounterMetricFamily(
        _PREFIX + "telegram_errors",
        "Telegram's refusals of invites, by Telegram's error name and whom it concerns",
        labels=["error", "concerns"],
    )
    for (error, concerns), n in sorted((await telegram_error_counter(redis).read()).items()):
        refusals.add_metric([error, concerns], n)
    timings = bot_update_histogram(redis)
    updates = HistogramMetricFamily(
        _PREFIX + "bot_update_seconds",
        "Time the bot spent on one update",
        labels=["update_type", "outcome"],
    )
    for labels, counts in sorted((await timings.read()).items()):
        updates.add_metric(list(labels), counts.cumulative(timings.bounds), counts.sum)
    return [invites, refusals, updates]


async def shared_families(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> list[Metric]:
    """Both sources at once, each with its own timeout, and whether each answered."""
    sources: dict[str, Callable[[], Awaitable[list[Metric]]]] = {
        "postgresql": lambda: _from_postgresql(sessionmaker),
        "redis": lambda: _from_redis(redis),
    }
    results = await asyncio.gather(
        *(asyncio.wait_for(read(), SOURCE_TIMEOUT_S) for read in sources.values()),
        return_exceptions=True,
    )
    up = GaugeMetricFamily(
        _PREFIX + "metrics_source_up",
        "Whether a metrics source answered this scrape",
        labels=["source"],
    )
    families: list[Metric] = []
    for name, result in zip(sources, results, strict=True):
        if isinstance(result, BaseException):
            log.warning("metrics source failed", source=name, error=type(result).__name__)
            up.add_metric([name], 0)
        else:
            families.extend(result)
            up.add_metric([name], 1)
    return [*families, up]


async def exposition(sessionmaker: async_sessionmaker[AsyncSession], redis: Redis) -> bytes:
    """The text of one scrape: this process's registry, then the installation's numbers."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(SnapshotCollector(await shared_families(sessionmaker, redis)))
    return generate_latest(REGISTRY) + generate_latest(scrape)
