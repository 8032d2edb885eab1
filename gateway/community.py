"""Community search run as one of the workspace's linked accounts (DESIGN §6).

`contacts.Search` only works for a logged-in user, so a search borrows an account the
way every other piece of work does: an account that may work now, under its lease, its
session decrypted only for the call. The Telegram side is `gateway.reading.scan_communities`,
the rules (keyword variants, which results count, the score) are `core.search`; the bot's
/search and `POST /api/v1/search` both come here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import AccountService, can_work
from core.dto import AccountDTO, AccountStatus
from core.errors import Busy, NoAccounts
from core.limits import rest_after_flood
from core.logs import get_logger
from core.search import Community, keyword_variants, rank
from core.secretbox import SessionDecryptError
from core.users import require_workspace
from db.dal import open_dal
from db.leases import LeaseStore
from gateway.reading import CommunityScan, scan_communities
from gateway.telegram import TelegramGateway

log = get_logger("gateway.community")

MAX_RESULTS = 50
ACCOUNTS_LOOKED_AT = 100
# Share of the lease's life a search may take: it is not renewed meanwhile.
BUDGET_SHARE = 0.6


async def search_communities(
    *,
    keywords: str,
    user_id: int,
    workspace_id: int,
    sessionmaker: async_sessionmaker[AsyncSession],
    service: AccountService,
    gateway: TelegramGateway,
    leases: LeaseStore,
    flood_buffer_s: int = 60,
) -> list[Community]:
    """Communities for `keywords`, best first (at most `MAX_RESULTS`).

    Raises `InvalidInput` (keywords), `NotFound` (workspace), `NoAccounts` (no linked
    account may work now) and `Busy` (all of them are leased by other work or resting
    after Telegram asked them to slow down).
    """
    variants = keyword_variants(keywords)
    async with open_dal(sessionmaker) as dal:
        await require_workspace(dal, user_id, workspace_id)
        linked = await dal.list_accounts(workspace_id, after_id=0, limit=ACCOUNTS_LOOKED_AT)
    now = datetime.now(UTC)
    usable = [a for a in linked if can_work(a, now)]
    if not usable:
        raise NoAccounts("no linked account may work now", workspace_id=workspace_id)
    busy = False
    for account in usable:
        scan = await _scan_as(
            account, variants, sessionmaker, service, gateway, leases, flood_buffer_s
        )
        if not isinstance(scan, CommunityScan):
            busy = busy or scan == "busy"
            continue
        if scan.flood_wait_s:
            await _rest(
                sessionmaker,
                service,
                account,
                rest_after_flood(datetime.now(UTC), scan.flood_wait_s, flood_buffer_s),
            )
        log.info(
            "communities searched",
            account_id=account.id,
            variants=len(variants),
            found=len(scan.found),
        )
        return rank(scan.found)[:MAX_RESULTS]
    if busy:
        raise Busy("every usable account is busy", workspace_id=workspace_id)
    raise NoAccounts("no linked account may work now", workspace_id=workspace_id)


async def _scan_as(
    account: AccountDTO,
    variants: list[str],
    sessionmaker: async_sessionmaker[AsyncSession],
    service: AccountService,
    gateway: TelegramGateway,
    leases: LeaseStore,
    flood_buffer_s: int,
) -> CommunityScan | Literal["busy", "gone"]:
    """The scan with this account, or why it cannot search: "busy" (leased elsewhere,
    resting, a passing error: later may work) or "gone" (logged out or banned)."""
    lease = await leases.acquire(account.id)
    if lease is None:
        return "busy"
    try:
        async with open_dal(sessionmaker) as dal:
            session = await service.session_of(dal, account)
            await dal.rollback()
        async with gateway.account(session) as client:
            return await scan_communities(client, variants, budget_s=leases.ttl_s * BUDGET_SHARE)
    except tg.FloodWait as exc:
        await _rest(
            sessionmaker,
            service,
            account,
            rest_after_flood(datetime.now(UTC), exc.seconds, flood_buffer_s),
            exc.rpc,
        )
        return "busy"
    except (tg.AccountUnauthorized, SessionDecryptError) as exc:
        await _set(
            sessionmaker,
            service,
            account,
            AccountStatus.UNAUTHORIZED,
            getattr(exc, "rpc", "") or "session_undecryptable",
        )
        return "gone"
    except tg.AccountBanned as exc:
        await _set(sessionmaker, service, account, AccountStatus.BANNED, exc.rpc)
        return "gone"
    except (tg.TelegramError, ConnectionError, OSError) as exc:
        log.warning(
            "community search failed",
            account_id=account.id,
            error=type(exc).__name__,
            rpc=getattr(exc, "rpc", ""),
        )
        return "busy"
    finally:
        await leases.release(lease)


async def _rest(
    sessionmaker: async_sessionmaker[AsyncSession],
    service: AccountService,
    account: AccountDTO,
    until: datetime,
    rpc: str = "FLOOD_WAIT",
) -> None:
    await _set(sessionmaker, service, account, AccountStatus.COOLDOWN, rpc, until)


async def _set(
    sessionmaker: async_sessionmaker[AsyncSession],
    service: AccountService,
    account: AccountDTO,
    status: AccountStatus,
    reason: str,
    until: datetime | None = None,
) -> None:
    async with open_dal(sessionmaker) as dal:
        await service.change_status(dal, account.id, status, reason, cooldown_until=until)
