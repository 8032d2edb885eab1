"""Delivers notices other processes put on the Redis stream (e.g. "someone logged in").

Every entry is acknowledged once it has been handled, delivered or not: a user who blocked
the bot must not hold the stream up, and nothing is retried for ever. An entry read but not
yet acknowledged when the bot stops is read again by the same consumer on the next start.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.campaign_progress import (
    CAMPAIGN_KINDS,
    DAILY_REPORT,
    ask_approval,
    daily_report_text,
    show_campaign_notice,
)
from bot.campaigns_view import paused_reason_text
from bot.progress import PROGRESS_KINDS, show_task_notice
from core.campaign_service import APPROVAL_NOTICE
from core.i18n import DEFAULT_LANGUAGE, t
from core.logs import bind_trace_id, get_logger, new_trace_id
from core.teams import TEAM_ADDED, TEAM_LEFT, TEAM_REMOVED
from db.dal import open_dal
from db.kv import ack_notification, read_notifications

log = get_logger(__name__)

# The bot runs as one process; a fixed consumer name is what lets a restarted bot pick up
# the entries its previous run read but did not acknowledge.
DEFAULT_CONSUMER = "bot"
NOTICE_TEXTS = {
    "web_login": "web_auth.notice",
    "account_status": "accounts.status_notice",
    "campaign_paused": "campaigns.paused_notice",
    "campaign_approved": "campaigns.approved_notice",
    "campaign_rejected": "campaigns.rejected_notice",
    "account_lost_rights": "accounts.lost_rights_notice",
    TEAM_ADDED: "team.added_notice",
    TEAM_REMOVED: "team.removed_notice",
    TEAM_LEFT: "team.left_notice",
    # workers/retention.py: an unused audience a week before its deletion, and at it.
    "audience_expiring": "audiences.expiring_notice",
    "audience_deleted": "audiences.expired_notice",
}
# Not sentences of their own: these redraw a collection task's progress message (bot.progress);
# CAMPAIGN_KINDS redraw a campaign's (bot.campaign_progress).
NOTICE_REDRAWS = PROGRESS_KINDS
SEND_ATTEMPTS = 3
NOTICE_BLOCK_MS = 2000  # how long one read of the notice stream waits for an entry
MAX_RETRY_AFTER_S = 60
RECONNECT_DELAY_S = 2.0


async def run_notices(
    bot: Bot,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    consumer: str = DEFAULT_CONSUMER,
    block_ms: int = NOTICE_BLOCK_MS,
) -> None:
    """Consume the stream until cancelled; survives Redis restarts."""
    while True:
        try:
            async for entry_id, telegram_id, kind, payload, trace_id in read_notifications(
                redis, consumer, block_ms=block_ms
            ):
                # Carry on the sender's trace (a worker's task or campaign), else a new one.
                if trace_id:
                    bind_trace_id(trace_id)
                else:
                    new_trace_id()
                try:
                    await deliver(bot, sessionmaker, telegram_id, kind, payload, redis=redis)
                except Exception:
                    # One bad entry (blocked bot, bad payload, a bug) must not stop the others.
                    log.exception("notice not delivered", entry_id=entry_id, kind=kind)
                await ack_notification(redis, entry_id)
        except (RedisError, OSError) as exc:
            log.warning("notice stream unavailable", error=str(exc))
            await asyncio.sleep(RECONNECT_DELAY_S)


async def deliver(
    bot: Bot,
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram_id: int,
    kind: str,
    payload: dict[str, str],
    *,
    redis: Redis | None = None,
) -> None:
    if kind in NOTICE_REDRAWS:
        await show_task_notice(bot, sessionmaker, redis, telegram_id, kind, payload)
        log.info("task notice shown", kind=kind, telegram_id=telegram_id)
        return
    if kind in CAMPAIGN_KINDS:
        await show_campaign_notice(bot, sessionmaker, redis, telegram_id, kind, payload)
        log.info("campaign notice shown", kind=kind, telegram_id=telegram_id)
        return
    if kind == APPROVAL_NOTICE:
        await ask_approval(bot, sessionmaker, telegram_id, payload)
        log.info("approval asked", telegram_id=telegram_id)
        return
    if kind == DAILY_REPORT:
        report = await daily_report_text(sessionmaker, telegram_id, payload)
        if report is not None:
            await _send(bot, telegram_id, report)
            log.info("daily report delivered", telegram_id=telegram_id)
        return
    key = NOTICE_TEXTS.get(kind)
    if key is None:
        log.warning("unknown notice kind", kind=kind)
        return
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(telegram_id)
    language = user.language if user else DEFAULT_LANGUAGE
    params = dict(payload)
    if "at" in params:
        params["at"] = _utc_time(params["at"])
    if kind == "account_status":
        params["status"] = t(language, f"accounts.status.{params.get('status', '')}")
    if kind == "campaign_paused":
        params["reason"] = paused_reason_text(language, str(params.get("reason", "")))
    await _send(bot, telegram_id, t(language, key, **params))
    log.info("notice delivered", kind=kind, telegram_id=telegram_id)


def _utc_time(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


async def _send(bot: Bot, chat_id: int, text: str) -> None:
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            await bot.send_message(chat_id, text)
            return
        except TelegramRetryAfter as exc:
            if attempt == SEND_ATTEMPTS or exc.retry_after > MAX_RETRY_AFTER_S:
                raise
            await asyncio.sleep(exc.retry_after)
        except TelegramNetworkError:
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(attempt)


async def cancel_and_wait(
    task: asyncio.Task[None], *, attempts: int = 5, wait_s: float = 1.0
) -> None:
    """Cancel the consumer and wait for it to end.

    A cancellation that lands while redis-py opens a connection can be swallowed (seen with
    redis-py 8.1 on Python 3.11), so the cancel is repeated until the task is really done.
    """
    for _ in range(attempts):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=wait_s)
    if task.done() and not task.cancelled() and task.exception() is not None:
        log.error("notice delivery had stopped", exc_info=task.exception())
