"""Holding an account lease while working with the account.

`hold()` keeps the lease alive with heartbeats. If a heartbeat finds the lease gone (the
process was frozen past the expiry, the database was unreachable, another process took
over), the work inside the block is cancelled at once and `LeaseLost` is raised: a process
that lost an account stops using it immediately.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import AccountService
from core.dto import AccountDTO
from core.logs import get_logger
from db.dal import open_dal
from db.engine import database_unreachable
from db.leases import Lease, LeaseStore
from gateway.reading import AccountClient
from gateway.telegram import TelegramGateway

log = get_logger("workers.leases")


class LeaseLost(Exception):
    def __init__(self, lease: Lease) -> None:
        super().__init__(f"lease on account {lease.account_id} (epoch {lease.epoch}) lost")
        self.lease = lease


class AccountBusy(Exception):
    pass


@contextlib.asynccontextmanager
async def hold(store: LeaseStore, account_id: int) -> AsyncIterator[Lease]:
    acquired = await store.acquire(account_id)
    if acquired is None:
        raise AccountBusy(account_id)
    lease: Lease = acquired
    body = asyncio.current_task()
    assert body is not None
    lost = asyncio.Event()

    loop = asyncio.get_running_loop()
    # Local, conservative view of the expiry: counted from before the request that set it.
    deadline = loop.time() + store.ttl_s

    async def heartbeat() -> None:
        nonlocal lease, deadline
        interval = store.ttl_s / 3
        while True:
            # On a beat common to the process's leases, so that they renew as one statement
            # (the first renewal may come early: never later than `interval`).
            await asyncio.sleep(interval - loop.time() % interval)
            sent_at = loop.time()
            try:
                renewed = await store.renew(lease)
            except Exception as exc:  # keep trying while the lease may live
                if database_unreachable(exc):  # an outage: `workers.outage` tells it once
                    log.warning(
                        "lease heartbeat failed",
                        account_id=account_id,
                        error=type(exc).__name__,
                    )
                else:
                    log.warning("lease heartbeat failed", account_id=account_id, exc_info=True)
                renewed = lease if loop.time() + interval < deadline else None
            else:
                if renewed is not None:
                    deadline = sent_at + store.ttl_s
            if renewed is None:
                log.warning("lease lost", account_id=account_id, epoch=lease.epoch)
                lost.set()
                body.cancel()
                return
            lease = renewed

    beater = asyncio.create_task(heartbeat(), name=f"lease-heartbeat-{account_id}")
    try:
        yield lease
    except asyncio.CancelledError:
        if lost.is_set():
            body.uncancel()
            raise LeaseLost(lease) from None
        raise
    finally:
        beater.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beater
        if not lost.is_set():
            try:
                await store.release(lease)
            except Exception:  # noqa: BLE001 - database away: handed back once it answers
                store.release_later(lease)


@contextlib.asynccontextmanager
async def leased_client(
    *,
    leases: LeaseStore,
    sessionmaker: async_sessionmaker[AsyncSession],
    service: AccountService,
    gateway: TelegramGateway,
    account: AccountDTO,
    remember_entities: bool = True,
) -> AsyncIterator[tuple[Lease, AccountClient]]:
    """The account's lease (held as by `hold`) and a client connected with its session,
    decrypted only once the lease is ours. Raises as `hold` does, `SessionDecryptError` for
    a session that cannot be opened, and whatever connecting raises."""
    async with hold(leases, account.id) as lease:
        async with open_dal(sessionmaker) as dal:
            session = await service.session_of(dal, account)
            await dal.rollback()
        async with gateway.account(session, remember_entities=remember_entities) as client:
            yield lease, client
