"""SQL for the accounts' history (`core.history.HistoryStore`).

Both reads are "these accounts since that day": one index range per account on
(account_id, at) — `ix_invite_events_account_at` and `ix_account_status_changes_account_at` —
so a workspace's 30 days cost days × accounts rows of the index, whatever the journal's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.history import AccountTotals, DayCount, StatusChange
from core.limits import Usage
from db.dal_invites import InviteDal

# `= ANY(array)` over the accounts' ids lets the planner walk the (account_id, at) index once
# per account; the day is the UTC day of the limits.
_INVITE_DAYS = text("""
    SELECT (e.at AT TIME ZONE 'UTC')::date AS day, e.account_id, e.outcome, e.reason, e.counted,
           count(*) AS n
      FROM invite_events e
     WHERE e.account_id = ANY(CAST(:ids AS bigint[])) AND e.at >= :since
     GROUP BY 1, 2, 3, 4, 5
     ORDER BY 1, 2, 3, 4
""")

_STATUS_CHANGES = text("""
    SELECT account_id, at, status, reason, until
      FROM account_status_changes
     WHERE account_id = ANY(CAST(:ids AS bigint[])) AND at >= :since
     ORDER BY at, id
""")

_TOTALS = text("""
    SELECT count(*) FILTER (WHERE counted) AS attempts,
           count(*) FILTER (WHERE outcome = 'invited') AS invited
      FROM invite_events WHERE account_id = :id
""")

# The earliest a pending person may be claimed: now, or when a retry's delay ends (the
# claim's own condition, `not_before <= clock_timestamp()`).
_PENDING_FROM = text("""
    SELECT min(greatest(coalesce(not_before, clock_timestamp()), clock_timestamp()))
      FROM campaign_targets WHERE campaign_id = :id AND state = 'pending'
""")


class HistorySql:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def invite_days(self, account_ids: Sequence[int], since: datetime) -> list[DayCount]:
        rows = await self.session.execute(_INVITE_DAYS, {"ids": list(account_ids), "since": since})
        return [
            DayCount(r.day, int(r.account_id), str(r.outcome), r.reason, bool(r.counted), int(r.n))
            for r in rows
        ]

    async def status_changes(
        self, account_ids: Sequence[int], since: datetime
    ) -> list[StatusChange]:
        rows = await self.session.execute(
            _STATUS_CHANGES, {"ids": list(account_ids), "since": since}
        )
        return [
            StatusChange(int(r.account_id), r.at, str(r.status), r.reason, r.until) for r in rows
        ]

    async def account_totals(self, account_id: int) -> AccountTotals:
        row = (await self.session.execute(_TOTALS, {"id": account_id})).one()
        return AccountTotals(int(row.attempts), int(row.invited))

    # --- the schedule (`core.schedule.ScheduleStore`) ---------------------------------------
    async def usage(self, account_id: int, chat_id: int, day: datetime, workspace_id: int) -> Usage:
        """The engine's own reading of an account's usage (`InviteDal.usage`)."""
        return await InviteDal(self.session).usage(account_id, chat_id, day, workspace_id)

    async def pending_from(self, campaign_id: int) -> datetime | None:
        found: datetime | None = await self.session.scalar(_PENDING_FROM, {"id": campaign_id})
        return found
