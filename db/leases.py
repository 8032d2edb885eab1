"""Account leases in PostgreSQL: one process per Telegram account at a time (DESIGN §5).

Two connections with one auth key end in AUTH_KEY_DUPLICATED, so a process may touch an
account only while it holds the account's lease. A lease has an owner, an expiry kept
alive by heartbeats, and an epoch that grows on every handover: work stamped with an old
epoch is recognisably stale (fencing). All times come from the database clock, so
processes on machines with skewed clocks still agree.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
_RENEW = text(
    """
    UPDATE account_leases
       SET heartbeat_at = clock_timestamp(),
           expires_at = clock_timestamp() + make_interval(secs => :ttl)
     WHERE account_id = :account_id AND owner = :owner AND epoch = :epoch
       AND expires_at > clock_timestamp()
    RETURNING expires_at
    """
)
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
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], owner: str, ttl_s: float) -> None:
        self._sessionmaker = sessionmaker
        self.owner = owner
        self.ttl_s = ttl_s

    async def acquire(self, account_id: int) -> Lease | None:
        """The lease when the account is free (never held, or its lease expired); else None."""
        async with self._sessionmaker() as session, session.begin():
            row = (
                await session.execute(
                    _ACQUIRE, {"account_id": account_id, "owner": self.owner, "ttl": self.ttl_s}
                )
            ).one_or_none()
        if row is None:
            return None
        return Lease(account_id, self.owner, int(row.epoch), row.expires_at)

    async def renew(self, lease: Lease) -> Lease | None:
        """Extend a lease still held; None means it is lost and the account must not be used."""
        async with self._sessionmaker() as session, session.begin():
            expires_at = await session.scalar(_RENEW, self._params(lease) | {"ttl": self.ttl_s})
        if expires_at is None:
            return None
        return Lease(lease.account_id, lease.owner, lease.epoch, expires_at)

    async def release(self, lease: Lease) -> None:
        async with self._sessionmaker() as session, session.begin():
            await session.execute(_RELEASE, self._params(lease))

    async def holds(self, session: AsyncSession, lease: Lease) -> bool:
        """Inside the caller's transaction: is this lease still the live one?"""
        return (await session.scalar(_HOLDS, held_params(lease))) is not None

    @staticmethod
    def _params(lease: Lease) -> dict[str, object]:
        return {"account_id": lease.account_id, "owner": lease.owner, "epoch": lease.epoch}


def held_params(lease: Lease) -> dict[str, object]:
    """The parameters of `HELD` for this lease."""
    return {"lease_account": lease.account_id, "lease_owner": lease.owner, "lease_epoch": lease.epoch}


def leases_for(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], role: str) -> LeaseStore:
    """The lease store of one process (`role`: worker, bot, api), with the configured TTL."""
    return LeaseStore(sessionmaker, owner=f"{role}:{process_owner()}", ttl_s=settings.account_lease_ttl_s)
