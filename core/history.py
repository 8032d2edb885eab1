"""What the accounts did, day by day, and what happened to them: the panel's history and an
account's own page (issue 16).

Two records are read, both kept where the facts are written:
- the invite journal (`invite_events`): every attempt with its outcome and reason, a flood
  wait or a PEER_FLOOD met while inviting included (a refunded attempt, `counted` false);
- the accounts' status changes (`account_status_changes`, written by a trigger on the
  accounts' rows whatever changed them): a cool-down with its end, a day's rest, a
  restriction, a freeze, a lost session, a disable.

Both are read as "these accounts since that day", which an index on (account, time) serves,
so the cost grows with days × accounts, not with the size of the journal. The day is the UTC
day, as for the limits (`core.limits.day_start`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from core.accounts import account_label
from core.dto import AccountDTO
from core.errors import InvalidInput, NotFound
from core.installation import effective_limits
from core.interfaces import Dal
from core.limits import InviteLimits, day_start
from core.outcomes import Concerns, refusal_of
from core.users import require_workspace

DEFAULT_DAYS = 30
MAX_DAYS = 90
# A workspace's accounts are at most this many for the history (the panel's list pages by 50,
# the engine reads up to 1,000): beyond it the chart would not be readable anyway.
MAX_ACCOUNTS = 1000


@dataclass(frozen=True, slots=True)
class DayCount:
    """Attempts of one account on one UTC day with one outcome and reason."""

    day: date
    account_id: int
    outcome: str
    reason: str | None
    counted: bool  # whether these attempts spent the account's quota
    n: int


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A status an account took: when, why (Telegram's error name or ours) and until when."""

    account_id: int
    at: datetime
    status: str
    reason: str | None
    until: datetime | None


@dataclass(frozen=True, slots=True)
class AccountTotals:
    attempts: int  # attempts that spent the quota, ever
    invited: int  # people it added, ever


@dataclass(frozen=True, slots=True)
class History:
    since: date
    days: int
    accounts: list[AccountDTO]
    invites: list[DayCount]
    changes: list[StatusChange]


@dataclass(frozen=True, slots=True)
class AccountPage:
    account: AccountDTO
    limits: InviteLimits
    totals: AccountTotals
    history: History


class HistoryStore(Protocol):
    async def invite_days(self, account_ids: Sequence[int], since: datetime) -> list[DayCount]:
        """Attempts per account, UTC day, outcome and reason since `since`."""

    async def status_changes(
        self, account_ids: Sequence[int], since: datetime
    ) -> list[StatusChange]:
        """Status changes of these accounts since `since`, oldest first."""

    async def account_totals(self, account_id: int) -> AccountTotals: ...


def check_days(days: int) -> int:
    """How many days of history are asked for: 1 to `MAX_DAYS`."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", field="days", problem="integer_range", low=1, high=MAX_DAYS)
    return days


def since_day(now: datetime, days: int) -> datetime:
    """The start of the first UTC day of the last `days` days, today included."""
    return day_start(now) - timedelta(days=days - 1)


async def _history(
    store: HistoryStore, accounts: list[AccountDTO], days: int, now: datetime
) -> History:
    since = since_day(now, days)
    ids = [a.id for a in accounts]
    invites = await store.invite_days(ids, since) if ids else []
    changes = await store.status_changes(ids, since) if ids else []
    return History(since.date(), days, accounts, invites, changes)


async def workspace_history(
    dal: Dal, store: HistoryStore, user_id: int, workspace_id: int, *, days: int = DEFAULT_DAYS
) -> History:
    """Every account of the workspace over the last `days` UTC days (any member may read it)."""
    check_days(days)
    await require_workspace(dal, user_id, workspace_id)
    accounts = await dal.list_accounts(workspace_id, after_id=0, limit=MAX_ACCOUNTS)
    return await _history(store, list(accounts), days, datetime.now(UTC))


async def account_page(
    dal: Dal,
    store: HistoryStore,
    default_limits: InviteLimits,
    user_id: int,
    workspace_id: int,
    account_id: int,
    *,
    days: int = DEFAULT_DAYS,
) -> AccountPage:
    """One account: where it stands, its usage against the limits new campaigns work under,
    and its own history. Another workspace's account is `NotFound`."""
    check_days(days)
    await require_workspace(dal, user_id, workspace_id)
    account = await dal.get_account(workspace_id, account_id)
    if account is None:
        raise NotFound("account", account_id=account_id)
    now = datetime.now(UTC)
    history = await _history(store, [account], days, now)
    # Today's usage as the limits count it: the attempts that spent the quota since 00:00 UTC.
    today = sum(c.n for c in history.invites if c.day == now.date() and c.counted)
    return AccountPage(
        account=replace(account, usage_today=today),
        limits=await effective_limits(dal, default_limits),
        totals=await store.account_totals(account.id),
        history=history,
    )


def label_of(account: AccountDTO) -> str:
    return account_label(account.username, account.first_name)


def reason_code(status_reason: str | None) -> str | None:
    """The catalog's `reason.<code>` for an account's status reason, when it is one of
    Telegram's refusals of an account (FLOOD_WAIT_X, PEER_FLOOD, FROZEN_*, …)."""
    if not status_reason:
        return None
    refusal = refusal_of(status_reason.split(":", 1)[0])
    return refusal.reason.value if refusal.concerns is Concerns.ACCOUNT else None
