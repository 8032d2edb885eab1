"""Account leases in PostgreSQL: one process per Telegram account at a time (DESIGN §5).

Two connections with one auth key end in AUTH_KEY_DUPLICATED, so a process may touch an
account only while it holds the account's lease. A lease has an owner, an expiry kept
alive by heartbeats, and an epoch that grows on every handover: work stamped with an old
epoch is recognisably stale (fencing). All times come from the database clock, so
processes on machines with skewed clocks still agree.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.settings import Settings


def process_owner() -> str:
    """A lease owner name unique to this process (host, pid, and a per-start nonce)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


_ACQUIRE = text(
    """
    INSERT INTO account_leases AS l (account_id, owner, epoch, acquired_at, heartbeat_at, expires_at)
    VALUES (:account_id, :owner, 1, clock_timestamp(), clock_timestamp(),
            clock_timestamp() + make_interval(secs => :ttl))
    ON CONFLICT (account_id) DO UPDATE
       SET owner = EXCLUDED.owner,
           epoch = l.epoch + 1,
           acquired_at = EXCLUDED.acquired_at,
           heartbeat_at = EXCLUDED.heartbeat_at,
           expires_at = EXCLUDED.expires_at
     WHERE l.expires_at <= clock_timestamp()
    RETURNING epoch, expires_at
    """
)
# Every lease of this owner renewed together in one statement: a worker holding hundreds of
# accounts through their pauses would otherwise spend most of its idle time on heartbeats.
_RENEW = text(
    """
    UPDATE account_leases AS l
       SET heartbeat_at = clock_timestamp(),
           expires_at = clock_timestamp() + make_interval(secs => :ttl)
      FROM unnest(CAST(:accounts AS bigint[]), CAST(:epochs AS bigint[])) AS h(account_id, epoch)
     WHERE l.account_id = h.account_id AND l.epoch = h.epoch AND l.owner = :owner
       AND l.expires_at > clock_timestamp()
    RETURNING l.account_id, l.expires_at
    """
)
RENEW_BATCH_WINDOW_S = 0.05  # renewals asked within this long go out as one statement
_RELEASE = text(
    """
    UPDATE account_leases SET expires_at = clock_timestamp()
     WHERE account_id = :account_id AND owner = :owner AND epoch = :epoch
    """
)
# "This lease is still the live one", as a query other statements can carry (parameters:
# `held_params`), so that a write and the lease check that allows it are one statement.
HELD = """
    SELECT 1 FROM account_leases
     WHERE account_id = :lease_account AND owner = :lease_owner AND epoch = :lease_epoch
       AND expires_at > clock_timestamp()
"""
_HOLDS = text(HELD)


@dataclass(frozen=True, slots=True)
class Lease:
    account_id: int
    owner: str
    epoch: int
    expires_at: datetime


class LeaseStore:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], owner: str, ttl_s: float
    ) -> None:
        self._sessionmaker = sessionmaker
        bind = sessionmaker.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("the sessionmaker must be bound to an AsyncEngine")
        # Acquiring, renewing and releasing are one statement each, so they run in autocommit
        # (a statement is its own transaction): no BEGIN and COMMIT round trips around them.
        self._autocommit = bind.execution_options(isolation_level="AUTOCOMMIT")
        self.owner = owner
        self.ttl_s = ttl_s
        self._pending: dict[int, tuple[Lease, asyncio.Future[Lease | None]]] = {}
        self._flusher: asyncio.Task[None] | None = None
        # Leases whose work ended while the database was away: handed back as soon as it
        # answers (the next acquire), not left to expire, so that work resumes at once.
        self._unreleased: dict[int, Lease] = {}

    async def acquire(self, account_id: int) -> Lease | None:
        """The lease when the account is free (never held, or its lease expired); else None."""
        if self._unreleased:
            await self._release_leftovers()
        async with self._autocommit.connect() as conn:
            row = (
                await conn.execute(
                    _ACQUIRE, {"account_id": account_id, "owner": self.owner, "ttl": self.ttl_s}
                )
            ).one_or_none()
        if row is None:
            return None
        return Lease(account_id, self.owner, int(row.epoch), row.expires_at)

    async def renew(self, lease: Lease) -> Lease | None:
        """Extend a lease still held; None means it is lost and the account must not be used.

        Renewals asked within `RENEW_BATCH_WINDOW_S` of each other (`hold()` schedules its
        heartbeats on a common beat) are one statement; a failure of that statement is
        raised to each of them."""
        future: asyncio.Future[Lease | None] = asyncio.get_running_loop().create_future()
        self._pending[lease.account_id] = (lease, future)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._renew_batch(), name="lease-renewals")
        return await future

    async def _renew_batch(self) -> None:
        await asyncio.sleep(RENEW_BATCH_WINDOW_S)
        batch, self._pending = self._pending, {}
        waiting = {account: pair for account, pair in batch.items() if not pair[1].done()}
        if not waiting:
            return
        try:
            async with self._autocommit.connect() as conn:
                rows = (
                    await conn.execute(
                        _RENEW,
                        {
                            "accounts": list(waiting),
                            "epochs": [lease.epoch for lease, _ in waiting.values()],
                            "owner": self.owner,
                            "ttl": self.ttl_s,
                        },
                    )
                ).all()
        except Exception as exc:  # noqa: BLE001 - raised by each renew() that waits on it
            for _, future in waiting.values():
                if not future.done():
                    future.set_exception(exc)
            return
        renewed = {int(r.account_id): r.expires_at for r in rows}
        for account, (lease, future) in waiting.items():
            if future.done():
                continue
            expires_at = renewed.get(account)
            future.set_result(
                None
                if expires_at is None
                else Lease(lease.account_id, lease.owner, lease.epoch, expires_at)
            )

    async def release(self, lease: Lease) -> None:
        async with self._autocommit.connect() as conn:
            await conn.execute(_RELEASE, self._params(lease))
        self._unreleased.pop(lease.account_id, None)

    def release_later(self, lease: Lease) -> None:
        """The work with this lease is over but the release failed: retry it before the next
        acquire. Safe however late: a release changes nothing once the epoch moved on."""
        self._unreleased[lease.account_id] = lease

    async def _release_leftovers(self) -> None:
        for lease in list(self._unreleased.values()):
            await self.release(lease)  # raises while the database is still away: kept for later

    async def holds(self, session: AsyncSession, lease: Lease) -> bool:
        """Inside the caller's transaction: is this lease still the live one?"""
        return (await session.scalar(_HOLDS, held_params(lease))) is not None

    @staticmethod
    def _params(lease: Lease) -> dict[str, object]:
        return {"account_id": lease.account_id, "owner": lease.owner, "epoch": lease.epoch}


def held_params(lease: Lease) -> dict[str, object]:
    """The parameters of `HELD` for this lease."""
    return {
        "lease_account": lease.account_id,
        "lease_owner": lease.owner,
        "lease_epoch": lease.epoch,
    }


def leases_for(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], role: str
) -> LeaseStore:
    """The lease store of one process (`role`: worker, bot, api), with the configured TTL."""
    return LeaseStore(
        sessionmaker, owner=f"{role}:{process_owner()}", ttl_s=settings.account_lease_ttl_s
    )
