"""Keeps campaigns' statuses and their owners' progress messages current (DESIGN §7).

Every few seconds, for each working campaign: `waiting` while no account may invite (all
spent today's limits) or outside the daily active hours, `running` again as soon as one
may; `done` once nobody is left to invite. Progress notices go to the campaign's creator
when the number of finished targets moved (the bot throttles its edits); the final notice
and the daily report go out once across all worker processes (a Redis `SET NX` decides).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import campaigns as cg
from core.accounts import can_work
from core.brake import BrakeRules, brake_reason
from core.dto import AccountDTO
from core.installation import stored_maximum, under_maximum
from core.interfaces import Notifier
from core.limits import InviteLimits, campaign_limits, day_start
from core.logs import get_logger, trace_scope
from db.dal import open_dal
from db.dal_invites import CampaignRow, InviteDal
from workers.pausing import pause_and_tell

log = get_logger("workers.campaign_watch")

DONE_NOTICE_KEY = "campaign:{campaign_id}:done_notice"
DAILY_REPORT_KEY = "daily_report:{workspace_id}:{day}"
ONCE_TTL_S = 8 * 86_400
RECENTLY_DONE_S = 600  # a campaign finished this recently still gets its final notice


class CampaignWatch:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        redis: Redis,
        notifier: Notifier | None,
        limits: InviteLimits,
        brake: BrakeRules | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.redis = redis
        self.notifier = notifier
        self.limits = limits
        self.brake = brake or BrakeRules()
        self._finished_seen: dict[int, int] = {}

    async def tick(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        async with self.sessionmaker() as session, session.begin():
            dal = InviteDal(session)
            await dal.end_cooldowns()
            await dal.start_due()
            campaigns = await dal.working_campaigns()
            for c in campaigns:
                await dal.finish_if_done(c.id)
            # Finished here or by an invite loop since the last look: told once.
            done = await dal.finished_since(now - timedelta(seconds=RECENTLY_DONE_S))
        working = [c for c in campaigns if c.id not in done]
        braked = await self._apply_brake(working)
        working = [c for c in working if c.id not in braked]
        reasons = await self._waiting_reasons(working, now)
        for row in working:
            with trace_scope(row.trace_id):
                async with self.sessionmaker() as session, session.begin():
                    changed = await InviteDal(session).set_waiting(row.id, reasons[row.id])
                if changed:
                    log.info(
                        "campaign status refreshed", campaign_id=row.id, waiting=reasons[row.id]
                    )
        await self._notify_progress([c.id for c in working], done)

    async def _apply_brake(self, working: list[CampaignRow]) -> set[int]:
        """Pause each working campaign that shows one of the brake's signs (`core.brake`);
        its creator is told once, and the pause marks where the next window starts (in the
        campaign's row). Returns the ids paused now."""
        if not working:
            return set()
        async with self.sessionmaker() as session:
            facts = await InviteDal(session).brake_facts([row.id for row in working], self.brake)
        braked: set[int] = set()
        for row in working:
            reason = brake_reason(facts[row.id], self.brake)
            if reason is None:
                continue
            with trace_scope(row.trace_id):
                if await pause_and_tell(
                    self.sessionmaker, self.notifier, row.id, row.workspace_id, reason
                ):
                    braked.add(row.id)
        return braked

    async def _waiting_reasons(
        self, working: list[CampaignRow], now: datetime
    ) -> dict[int, str | None]:
        """Why each working campaign has to wait now ("hours", "quota"; None: it may run).
        One read for the whole tick: the maximums once, each workspace's accounts once."""
        reasons: dict[int, str | None] = {
            row.id: None
            if cg.in_active_hours(now, row.active_from_hour, row.active_to_hour)
            else "hours"
            for row in working
        }
        in_hours = [row for row in working if reasons[row.id] is None]
        if not in_hours:
            return reasons
        async with open_dal(self.sessionmaker) as dal:
            # Read on every tick: an admin's new maximums apply without a restart.
            maximum = await stored_maximum(dal)
            accounts: dict[int, list[AccountDTO]] = {}
            for row in in_hours:
                if row.workspace_id not in accounts:
                    accounts[row.workspace_id] = await dal.list_accounts(
                        row.workspace_id, after_id=0, limit=1000
                    )
                limits = under_maximum(campaign_limits(row.limits, self.limits), maximum)
                named = cg.eligible_ids(row.preflight)
                allowed = None if named is None else named | cg.unchecked_ids(row.preflight)
                usable = [
                    a.id
                    for a in accounts[row.workspace_id]
                    if can_work(a, now) and (allowed is None or a.id in allowed)
                ]
                if not await dal.quota_left(row, usable, day_start(now), limits):
                    reasons[row.id] = "quota"
            await dal.rollback()
        return reasons

    async def _notify_progress(self, working: list[int], done: list[int]) -> None:
        if self.notifier is None:
            return
        async with self.sessionmaker() as session:
            marks = await InviteDal(session).progress_marks(working + done)
        for campaign_id in done:
            _finished, _status, telegram_id = marks[campaign_id]
            self._finished_seen.pop(campaign_id, None)
            if telegram_id is not None and await self._once(
                DONE_NOTICE_KEY.format(campaign_id=campaign_id)
            ):
                await self.notifier.notify(
                    telegram_id, "campaign_done", {"campaign_id": str(campaign_id)}
                )
        for campaign_id in working:
            finished, _status, telegram_id = marks[campaign_id]
            before = self._finished_seen.get(campaign_id)
            self._finished_seen[campaign_id] = finished
            if telegram_id is not None and before is not None and before != finished:
                await self.notifier.notify(
                    telegram_id, "campaign_progress", {"campaign_id": str(campaign_id)}
                )
        for campaign_id in set(self._finished_seen) - set(working):
            del self._finished_seen[campaign_id]  # paused or cancelled: the user did it

    async def daily_reports(self, now: datetime | None = None) -> int:
        """The owners of workspaces that invited yesterday (UTC) get that day's report."""
        if self.notifier is None:
            return 0
        today = day_start(now or datetime.now(UTC))
        yesterday = today - timedelta(days=1)
        async with self.sessionmaker() as session:
            owners = await InviteDal(session).workspaces_with_invites(yesterday, today)
        sent = 0
        day = yesterday.date().isoformat()
        for workspace_id, telegram_id in owners:
            if await self._once(DAILY_REPORT_KEY.format(workspace_id=workspace_id, day=day)):
                await self.notifier.notify(
                    telegram_id, "daily_report", {"workspace_id": str(workspace_id), "day": day}
                )
                sent += 1
        return sent

    async def _once(self, key: str) -> bool:
        return bool(await self.redis.set(key, "1", nx=True, ex=ONCE_TTL_S))
