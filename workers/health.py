"""Periodic health check of every linked account (DESIGN §5).

Each account is checked under its lease (skipped while another process uses it): is the
session still authorized, is the account deactivated or banned, is a cool-down over. The
status is recorded and the workspace owner hears about every change.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import CHECKED_STATUSES, AccountService
from core.dto import AccountDTO, AccountStatus
from core.limits import rest_after_flood
from core.logs import get_logger, new_trace_id
from core.secretbox import SessionDecryptError
from db.dal import open_dal
from db.leases import LeaseStore
from gateway.telegram import TelegramGateway

log = get_logger("workers.health")
BATCH = 100


async def check_all_accounts(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    service: AccountService,
    gateway: TelegramGateway,
    leases: LeaseStore,
    flood_buffer_s: int,
) -> dict[str, int]:
    """Check every account once; returns counts by result, for the log and the tests."""
    new_trace_id()
    counts: dict[str, int] = {}
    after = 0
    while True:
        async with open_dal(sessionmaker) as dal:
            accounts = await dal.all_accounts(after_id=after, limit=BATCH)
        if not accounts:
            break
        after = accounts[-1].id
        for account in accounts:
            if account.status not in CHECKED_STATUSES:
                continue
            lease = await leases.acquire(account.id)
            if lease is None:
                result = "busy"
            else:
                try:
                    result = await _check(account, sessionmaker, service, gateway, flood_buffer_s)
                finally:
                    await leases.release(lease)
            counts[result] = counts.get(result, 0) + 1
    log.info("accounts checked", **counts)
    return counts


async def _check(
    account: AccountDTO,
    sessionmaker: async_sessionmaker[AsyncSession],
    service: AccountService,
    gateway: TelegramGateway,
    flood_buffer_s: int,
) -> str:
    now = datetime.now(UTC)
    status: AccountStatus | None = None
    reason: str | None = None
    until: datetime | None = None
    async with open_dal(sessionmaker) as dal:
        try:
            session = await service.session_of(dal, account)
        except SessionDecryptError:
            session = None
            status, reason = AccountStatus.UNAUTHORIZED, "session_undecryptable"
    if session is not None:
        try:
            async with gateway.account(session) as client:
                await client.me()
        except tg.AccountUnauthorized as exc:
            status, reason = AccountStatus.UNAUTHORIZED, exc.rpc
        except tg.AccountBanned as exc:
            status, reason = AccountStatus.BANNED, exc.rpc
        except tg.FloodWait as exc:
            status, reason = AccountStatus.COOLDOWN, exc.rpc
            until = rest_after_flood(now, exc.seconds, flood_buffer_s)
        except tg.AuthKeyDuplicated:
            log.error("session used by two connections despite the lease", account_id=account.id)
            return "duplicated"
        except (tg.TelegramError, ConnectionError, OSError) as exc:
            log.warning("account check failed", account_id=account.id, error=type(exc).__name__)
            return "error"
        else:
            resting = account.status in (AccountStatus.COOLDOWN, AccountStatus.PARKED)
            if account.status is AccountStatus.UNAUTHORIZED or (
                resting and (account.cooldown_until is None or account.cooldown_until <= now)
            ):
                status, reason = AccountStatus.ACTIVE, None
    async with open_dal(sessionmaker) as dal:
        await dal.touch_account_checked(account.id)
        if status is not None:
            await service.change_status(dal, account.id, status, reason, cooldown_until=until)
        else:
            await dal.commit()
    return (status or account.status).value
