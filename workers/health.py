"""Periodic health check of every linked account (DESIGN §5).

Each account is checked under its lease (skipped while another process uses it): is the
session still authorized, is the account deactivated or banned, is a cool-down over, is it
frozen (help.getAppConfig's freeze fields), and — for a `parked` account after its rest and
a `restricted` one — what @SpamBot says about its limits. The rules for reading those
answers are in `core/spambot.py`. @SpamBot is asked at most once a day per account: such an
account is left alone (`later`) between its daily checks. The status is recorded and the
workspace owner hears about every change.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import telegram as tg
from core.accounts import CHECKED_STATUSES, TELEGRAM_VERDICTS, AccountService
from core.dto import AccountDTO, AccountStatus
from core.limits import rest_after_flood
from core.logs import get_logger, new_trace_id
from core.outcomes import refusal_of
from core.secretbox import SessionDecryptError
from core.spambot import (
    SpamReading,
    SpamVerdict,
    read_spambot_reply,
    spambot_due,
    status_after_checks,
    waits_for_spambot,
)
from db.dal import open_dal
from db.leases import LeaseStore
from gateway.reading import AccountClient
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
    ask_spambot = spambot_due(account, now)
    if waits_for_spambot(account, now) and not ask_spambot:
        return "later"  # asked @SpamBot less than a day ago; the status stays as it is
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
                freeze = await client.freeze_info()
                spam = None
                if ask_spambot and freeze is None:
                    spam = await _ask_spambot(client, account)
        except tg.AccountUnauthorized as exc:
            status, reason = AccountStatus.UNAUTHORIZED, exc.rpc
        except tg.AccountBanned as exc:
            status, reason = AccountStatus.BANNED, exc.rpc
        except tg.FloodWait as exc:
            if account.status in TELEGRAM_VERDICTS:
                # A cool-down would let the account work once it ends: a parked account keeps
                # its rest, a restricted or frozen one waits for its next check.
                log.info("account check asked to wait", account_id=account.id, seconds=exc.seconds)
            else:
                status, reason = AccountStatus.COOLDOWN, exc.rpc
                until = rest_after_flood(now, exc.seconds, flood_buffer_s)
        except tg.TelegramError as exc:
            # Telethon's connect() reads the account itself (users.getUsers) before anything
            # else, so a refusal of a frozen account arrives here, with no client left to ask
            # help.getAppConfig (core.telegram.org/api/auth, Frozen accounts): the error
            # alone says frozen.
            if refusal_of(exc.rpc).status is not AccountStatus.FROZEN:
                log.warning(
                    "account check failed",
                    account_id=account.id,
                    error=exc.rpc or type(exc).__name__,
                )
                return "error"
            status, reason, until = status_after_checks(
                account, None, None, frozen_error=exc.rpc
            ) or (AccountStatus.FROZEN, exc.rpc, None)
        except (ConnectionError, OSError) as exc:
            log.warning("account check failed", account_id=account.id, error=type(exc).__name__)
            return "error"
        else:
            change = status_after_checks(account, freeze, spam)
            if change is not None:
                status, reason, until = change
            elif account.status is AccountStatus.UNAUTHORIZED:
                # A cooldown ends with its rest in the campaign watch (`end_cooldowns`).
                status, reason = AccountStatus.ACTIVE, None
    async with open_dal(sessionmaker) as dal:
        await dal.touch_account_checked(account.id)
        if status is not None:
            await service.change_status(dal, account.id, status, reason, cooldown_until=until)
        else:
            await dal.commit()
    return (status or account.status).value


async def _ask_spambot(client: AccountClient, account: AccountDTO) -> SpamReading | None:
    """@SpamBot's word on the account, or None when the exchange failed (logged). Whatever
    happens, the check is recorded, so the next question comes a day later, not a round."""
    try:
        text = await client.spambot_reply()
    except (tg.AccountUnauthorized, tg.AccountBanned):  # AUTH_KEY_DUPLICATED included
        raise
    except (tg.TelegramError, ConnectionError, OSError, TimeoutError) as exc:
        log.warning(
            "spambot check failed",
            account_id=account.id,
            error=getattr(exc, "rpc", "") or type(exc).__name__,
        )
        return None
    reading = read_spambot_reply(text)
    if reading.verdict is SpamVerdict.UNKNOWN:
        # No official list of SpamBot's replies exists: a new wording is kept for people to read.
        log.warning("spambot reply not understood", account_id=account.id, reply=(text or "")[:300])
    else:
        log.info(
            "spambot reply",
            account_id=account.id,
            verdict=reading.verdict.value,
            until=reading.until.isoformat() if reading.until else None,
        )
    return reading
