"""When a campaign's next invite can happen, and when it should be done (issue 16).

`account_ready_at` is the one rule of when an account may next invite for a campaign, and
the engine asks it before it connects an account (`workers.inviting.InviteEngine.
_has_work_now`): an account works once its rest is over (`core.accounts.can_work`; the
campaign watch ends a cool-down at its time), `core.limits.may_invite` lets it (its pause
after the last invite, the day's caps, the chat's lifetime cap) and the campaign's active
hours have begun (`core.campaigns.next_active_start`). The engine draws each account's pause
between `pause_min_s` and `pause_max_s` and keeps the drawn value in the worker's memory, so
the panel's "next attempt" uses the shortest pause: the earliest the engine may try. The
estimate of the finish is the pre-flight's (`core.limits.days_to_finish`) for the people
still to invite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from core.accounts import can_work
from core.campaigns import CampaignStatus, eligible_ids, next_active_start, unchecked_ids
from core.dto import AccountDTO, AccountStatus, CampaignDTO
from core.installation import effective_limits
from core.interfaces import Dal
from core.limits import InviteLimits, Usage, campaign_limits, day_start, days_to_finish, may_invite

# Statuses whose campaigns the engine works now, or will from their start time.
_WORKING = (CampaignStatus.RUNNING, CampaignStatus.WAITING)


class ScheduleStore(Protocol):
    async def usage(self, account_id: int, chat_id: int, day: datetime, workspace_id: int) -> Usage:
        """The account's invites today, today into the chat, ever into it, and its last one."""

    async def pending_from(self, campaign_id: int) -> datetime | None:
        """The earliest time a pending person of the campaign may be claimed (None: nobody
        is pending)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    next_attempt_at: datetime | None  # None: no attempt is ahead (not working, nobody left)
    to_invite: int  # people still pending
    accounts: int  # accounts that may still invite for it
    days_to_finish: int | None  # None: these accounts cannot finish it
    finish_by: date | None  # the UTC day it should be done, at the limits' pace


def account_ready_at(
    account: AccountDTO,
    now: datetime,
    hours: tuple[int | None, int | None],
    limits: InviteLimits,
    usage: Usage,
    pause_s: int,
) -> datetime | None:
    """The earliest time this account may invite for a campaign (None: not before a check or
    its owner lets it work again, or never in this chat: its lifetime cap there)."""
    at = now
    if account.status is AccountStatus.COOLDOWN and account.cooldown_until is not None:
        at = max(now, account.cooldown_until)  # the campaign watch ends the rest at its time
    elif not can_work(account, now):
        return None
    verdict = may_invite(limits, usage, at, pause_s)
    if not verdict.allowed:
        if verdict.not_before is None:
            return None
        at = max(at, verdict.not_before)
    return next_active_start(at, *hours)


async def campaign_schedule(
    dal: Dal,
    store: ScheduleStore,
    campaign: CampaignDTO,
    counts: dict[str, int],
    default: InviteLimits,
) -> Schedule:
    """The campaign's next attempt and its expected last day (the caller checked access)."""
    now = datetime.now(UTC)
    pending = counts.get("pending", 0)
    limits = await effective_limits(dal, campaign_limits(campaign.limits, default))
    accounts = await dal.list_accounts(campaign.workspace_id, after_id=0, limit=1000)
    eligible = eligible_ids(campaign.preflight)
    if eligible is not None:
        allowed = eligible | unchecked_ids(campaign.preflight)
        accounts = [a for a in accounts if a.id in allowed]
    status = CampaignStatus(campaign.status)
    start = now
    if status is CampaignStatus.SCHEDULED and campaign.start_at is not None:
        start = max(now, campaign.start_at)
    ready: list[datetime] = []
    able = 0
    if campaign.target_chat_id is not None:
        for account in accounts:
            usage = await store.usage(
                account.id, campaign.target_chat_id, day_start(start), campaign.workspace_id
            )
            at = account_ready_at(
                account,
                start,
                (campaign.active_from_hour, campaign.active_to_hour),
                limits,
                usage,
                limits.pause_min_s,
            )
            if at is not None:
                able += 1
                ready.append(at)
    next_at: datetime | None = None
    working = status in _WORKING or status is CampaignStatus.SCHEDULED
    claimable = await store.pending_from(campaign.id) if working and pending else None
    if ready and claimable is not None:
        next_at = max(min(ready), claimable)
    days = days_to_finish(pending, able, limits)
    finish_from = next_at or start
    finish_by = None
    if days is not None:
        finish_by = (day_start(finish_from) + timedelta(days=max(days - 1, 0))).date()
    return Schedule(next_at, pending, able, days, finish_by)
