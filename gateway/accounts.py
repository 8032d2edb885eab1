"""Account operations that need Telegram itself: unlinking logs the session out first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import AccountService
from core.dto import AccountDTO
from core.errors import Busy
from core.logs import get_logger
from core.secretbox import SessionDecryptError
from db.dal import open_dal
from db.leases import Lease, LeaseStore
from gateway.reading import AccountClient
from gateway.telegram import TelegramGateway

log = get_logger("gateway.accounts")
LEASE_WAIT_S = 10.0


async def wait_for_lease(
    leases: LeaseStore, account_id: int, wait_s: float = LEASE_WAIT_S
) -> Lease:
    """The account's lease, waiting a little for a worker to finish; `Busy` otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        lease = await leases.acquire(account_id)
        if lease is not None:
            return lease
        if loop.time() >= deadline:
            raise Busy("account in use", account_id=account_id)
        await asyncio.sleep(0.25)


@contextlib.asynccontextmanager
async def leased_account_client(
    *,
    leases: LeaseStore,
    sessionmaker: async_sessionmaker[AsyncSession],
    service: AccountService,
    gateway: TelegramGateway,
    account: AccountDTO,
    wait_s: float = LEASE_WAIT_S,
    remember_entities: bool = True,
) -> AsyncIterator[AccountClient]:
    """A connected client of `account` for a short piece of work in the bot or the API (a
    check, a pre-flight): its lease first (waiting up to `wait_s`, else `Busy`), its session
    decrypted only once the lease is ours, the lease handed back when the work is done.
    Workers hold leases with heartbeats instead (`workers.leases.leased_client`)."""
    lease = await wait_for_lease(leases, account.id, wait_s)
    try:
        async with open_dal(sessionmaker) as dal:
            session = await service.session_of(dal, account)
            await dal.rollback()
        async with gateway.account(session, remember_entities=remember_entities) as client:
            yield client
    finally:
        await leases.release(lease)


async def unlink_account(
    *,
    service: AccountService,
    gateway: TelegramGateway,
    leases: LeaseStore,
    sessionmaker: async_sessionmaker[AsyncSession],
    user_id: int,
    workspace_id: int,
    account_id: int,
) -> bool:
    """Log the account's session out of Telegram and forget it. Owner only.

    Returns whether Telegram confirmed the log-out; a session Telegram had already ended
    (or that cannot be decrypted any more) is forgotten all the same.
    """
    async with open_dal(sessionmaker) as dal:
        account = await service.check_unlink(dal, user_id, workspace_id, account_id)
        lease = await wait_for_lease(leases, account.id)
        try:
            session = await service.session_of(dal, account)
        except SessionDecryptError:
            session = None
        await dal.rollback()
    logged_out = False
    try:
        if session is not None:
            async with gateway.account(session) as client:
                await client.log_out()
            logged_out = True
    except (tg.AccountUnauthorized, tg.AccountBanned) as exc:
        log.info("session already ended", account_id=account.id, rpc=exc.rpc)
    except Exception:
        await leases.release(lease)
        raise
    async with open_dal(sessionmaker) as dal:
        await service.forget(dal, user_id, account, logged_out=logged_out)
    return logged_out
