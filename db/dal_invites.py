"""Data access for invite campaigns: targets, the claim journal, the ledger and the event log.

Nothing here commits: the worker decides where a transaction ends, because the claim (the
`sending` row and the ledger row) must be committed before the Telegram call and the
result must be written in one transaction together with the lease check.

What people see of a campaign (counts by state, reasons, per-account totals) is read from
`campaign_target_counts` and `campaign_account_counts`, which triggers keep in the very
statements below that write targets and events: no page ever counts a campaign's rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import account_label
from core.brake import BrakeFacts, BrakeRules
from core.campaigns import CampaignStatus, Effect, TargetChat, TargetState
from core.dto import AccountUsageDTO, CampaignDTO, FollowUpDTO, InviteEventDTO, ReportReads
from core.limits import InviteLimits, Usage
from core.outcomes import FOLLOW_UP_REASONS
from db.driver import fetch, fetchrow, page_under, row_limit
from db.leases import HELD, Lease, held_params


@dataclass(frozen=True, slots=True)
class CampaignRow:
    id: int
    workspace_id: int
    status: CampaignStatus
    target_ref: str
    target_chat_id: int | None
    target_kind: str | None
    active_from_hour: int | None
    active_to_hour: int | None
    limits: dict[str, Any]
    preflight: dict[str, Any]
    trace_id: str | None = None  # of the request that created the campaign


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    tg_user_id: int
    username: str | None
    seen_by_account_id: int | None
    access_hash: int | None
    state: TargetState
    attempts: int


_CAMPAIGN_COLS = (
    "id, workspace_id, status, target_ref, target_chat_id, target_kind, active_from_hour, "
    "active_to_hour, limits, preflight, trace_id"
)


_VIEW_COLS = (
    "id, workspace_id, created_by_user_id, name, audience_id, target_ref, target_chat_id, target_kind, "
    "target_title, invite_link, status, start_at, active_from_hour, active_to_hour, limits, preflight, "
    "waiting_reason, paused_reason, notify_chat_id, notify_message_id, created_at, started_at, finished_at"
)


_FOLLOW_UP_REASONS = sorted(r.value for r in FOLLOW_UP_REASONS)


_DTO_FIELDS = tuple(CampaignDTO.__dataclass_fields__)
# Every target state at 0, copied for each campaign's counts.
_NO_COUNTS = {s.value: 0 for s in TargetState}


def _view(row: Any) -> CampaignDTO:
    """A campaign from a row of `_VIEW_COLS` (a driver record or a SQLAlchemy row's mapping)."""
    values = {k: row[k] for k in _DTO_FIELDS}
    values["status"] = str(values["status"])
    values["limits"] = values["limits"] or {}
    values["preflight"] = values["preflight"] or {}
    return CampaignDTO(**values)


# What a campaign's report reads, as parts of its one statement (`campaign_report`); the
# counters (`tally`) and the follow-ups (`follow_ups`, the export) are also read alone. The
# templates name their parameters, filled with the positions each statement gives them.
_COUNTS_BY_REASON = """SELECT state::text AS state, reason, sum(n) AS n FROM campaign_target_counts
             WHERE campaign_id = {campaign} GROUP BY state, reason"""
_ACCOUNT_USAGE = """
    WITH mine AS (
        SELECT account_id, sum(invited) AS invited, sum(failed) AS failed, sum(attempts) AS attempts
          FROM campaign_account_counts WHERE campaign_id = {campaign}
         GROUP BY account_id
    )
    SELECT a.id, a.username, a.first_name, coalesce(mine.invited, 0) AS invited,
           coalesce(mine.failed, 0) AS failed, coalesce(mine.attempts, 0) AS attempts,
           spent.today, spent.today_in_chat
      FROM campaigns c
      JOIN telegram_accounts a ON a.workspace_id = c.workspace_id
      LEFT JOIN mine ON mine.account_id = a.id
     CROSS JOIN LATERAL (
        SELECT count(*) AS today, count(*) FILTER (WHERE e.chat_id = c.target_chat_id) AS today_in_chat
          FROM invite_events e
         WHERE e.account_id = a.id AND e.counted AND e.at >= {today}
     ) AS spent
     WHERE c.id = {campaign}"""
_FOLLOW_UPS = """SELECT t.id, t.tg_user_id, t.username, m.first_name, t.reason
                   FROM campaign_targets t
                   JOIN campaigns c ON c.id = t.campaign_id
                   LEFT JOIN audience_members m ON m.audience_id = c.audience_id AND m.tg_user_id = t.tg_user_id
                  WHERE t.campaign_id = {campaign} AND t.state = 'failed' AND t.reason = ANY({reasons}::text[])
                    AND t.id > {after}
                  ORDER BY t.id {limit}"""

_COUNTS_BY_REASON_SQL = _COUNTS_BY_REASON.format(campaign="$1")
_FOLLOW_UPS_SQL = _FOLLOW_UPS.format(campaign="$1", reasons="$2", after="$3", limit="LIMIT $4")
# The start of the database's UTC day: "today" of an account's quota, on the clock that
# stamps the events (`invite_events.at` defaults to now()). In the statement rather than a
# parameter so that PostgreSQL knows it when it plans (see `_report_sql`).
_TODAY = "(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"


@lru_cache(maxsize=128)
def _report_sql(rows: int) -> str:
    """The report's one statement, `rows` follow-ups at most (one round trip instead of five:
    measured on the API, each statement cost its process about 0.1 ms of CPU). The parts come
    back as JSON arrays of rows.

    The page size is written into the statement and "today" is computed in it. With both as
    parameters, PostgreSQL estimated its generic plan at 10,651 against 2,081 for a custom
    one (a tenth of the campaign for the page, 41,708 of an account's events for "today"
    instead of 26) and planned every call again: 0.45-0.6 ms of the server's CPU each time,
    measured with EXPLAIN ANALYZE on a million targets. With both known, it kept the generic
    plan after its five custom ones (pg_prepared_statements: 315 generic, 5 custom over 320
    reports of that campaign); for a small campaign, whose custom plans it estimates cheaper,
    it still plans each call."""
    return f"""
    SELECT {", ".join("r." + c.strip() for c in _VIEW_COLS.split(","))},
           (SELECT json_agg(json_build_array(t.state, t.reason, t.n))
              FROM ({_COUNTS_BY_REASON.format(campaign="$1")}) t) AS tally,
           (SELECT json_agg(json_build_array(u.id, u.username, u.first_name, u.invited, u.failed,
                                             u.attempts, u.today, u.today_in_chat) ORDER BY u.id)
              FROM ({_ACCOUNT_USAGE.format(campaign="$1", today=_TODAY)}) u) AS usage,
           (SELECT json_agg(json_build_array(f.id, f.tg_user_id, f.username, f.first_name, f.reason)
                            ORDER BY f.id)
              FROM ({_FOLLOW_UPS.format(campaign="$1", reasons="$3", after="$4", limit=row_limit(rows))}) f)
              AS follow_ups,
           (SELECT value FROM installation_settings WHERE key = $5) AS setting
      FROM campaigns r WHERE r.id = $1 AND r.workspace_id = $2"""


def _tally_of(rows: Iterable[Sequence[Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """(state, reason, people) rows → people by state (every state present), and people by
    reason among the failed and skipped, most first."""
    counts = dict(_NO_COUNTS)
    reasons: dict[str, int] = {}
    for state, reason, people in rows:
        n = int(people)
        if state in counts:
            counts[state] += n
        if state in ("failed", "skipped") and reason and n > 0:
            reasons[reason] = reasons.get(reason, 0) + n
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return counts, dict(ordered)


def _usage_of(r: Sequence[Any]) -> AccountUsageDTO:
    """(id, username, first name, invited, failed, attempts, today, today in the chat)."""
    return AccountUsageDTO(
        r[0], account_label(r[1], r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7])
    )


def _follow_up_of(r: Sequence[Any]) -> tuple[int, FollowUpDTO]:
    """(target id, Telegram id, username, first name, reason) → (cursor key, person)."""
    return int(r[0]), FollowUpDTO(r[1], r[2], r[3], str(r[4]))


# A campaign's targets by state from its counters, as [[state, people], ...]: a column of a
# statement over `campaigns c`, so that a page reads its campaigns and their counts at once.
_STATE_COUNTS = """(SELECT json_agg(json_build_array(k.state, k.n)) FROM (
        SELECT state::text AS state, sum(n) AS n FROM campaign_target_counts
         WHERE campaign_id = c.id GROUP BY state) k) AS counts"""
_CAMPAIGNS_PAGE = """SELECT {columns} FROM campaigns c
     WHERE workspace_id = $1 AND ($2::bigint IS NULL OR id < $2)
       AND ($3::text[] IS NULL OR status::text = ANY($3::text[]))
     ORDER BY id DESC {limit}"""


def _states(pairs: Iterable[Sequence[Any]]) -> dict[str, int]:
    """(state, people) pairs → people by state, every state present (0 when none)."""
    found = dict(_NO_COUNTS)
    for state, people in pairs:
        if state in found:
            found[state] = int(people)
    return found


def _campaign(row: Any) -> CampaignRow:
    return CampaignRow(
        row.id,
        row.workspace_id,
        CampaignStatus(row.status),
        row.target_ref,
        row.target_chat_id,
        row.target_kind,
        row.active_from_hour,
        row.active_to_hour,
        row.limits or {},
        row.preflight or {},
        row.trace_id,
    )


# CHAT_MEMBER_ADD_FAILED is tried by a different account while the campaign has another.
_OTHER_ACCOUNT = """AND NOT coalesce(reason = 'add_failed' AND account_id = :account
                         AND cardinality(CAST(:reachable AS bigint[])) > 1, false)"""
_PICK_MINE = """
    SELECT id, tg_user_id FROM campaign_targets
     WHERE campaign_id = :campaign AND state = 'pending' AND seen_by_account_id = :account
       AND tg_user_id IS NOT NULL AND (not_before IS NULL OR not_before <= clock_timestamp())
       AND EXISTS (SELECT 1 FROM campaigns WHERE id = :campaign AND status IN ('running', 'waiting'))
       {other_account}
     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
"""
_PICK_ANY = """
    SELECT id, tg_user_id FROM campaign_targets
     WHERE campaign_id = :campaign AND state = 'pending'
       AND (seen_by_account_id IS NULL OR username IS NOT NULL OR NOT (seen_by_account_id = ANY(:reachable)))
       AND tg_user_id IS NOT NULL AND (not_before IS NULL OR not_before <= clock_timestamp())
       AND EXISTS (SELECT 1 FROM campaigns WHERE id = :campaign AND status IN ('running', 'waiting'))
       {other_account}
     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
"""
_PICK_MINE = _PICK_MINE.format(other_account=_OTHER_ACCOUNT)
_PICK_ANY = _PICK_ANY.format(other_account=_OTHER_ACCOUNT)
# The claim: the target becomes `sending` and the chat's ledger gets the person, in one
# statement. A person the ledger already has (another campaign, an earlier run) is skipped;
# only a retryable failure lets anyone try again. Written as WITH queries so that it can
# also follow a result in one statement (`_SETTLE_AND_CLAIM`).
_CLAIM_STEPS = """
pick AS ({pick}),
-- The workspace's own list, and the installation's (people who sent the bot /optout).
opted AS (
    SELECT 1 FROM opt_outs o, pick WHERE o.workspace_id = :workspace AND o.tg_user_id = pick.tg_user_id
    UNION ALL
    SELECT 1 FROM global_opt_outs g, pick WHERE g.tg_user_id = pick.tg_user_id
),
fresh AS (
    SELECT 1 FROM pick WHERE NOT EXISTS (SELECT 1 FROM opted) AND NOT EXISTS (
        SELECT 1 FROM invite_ledger l
         WHERE l.workspace_id = :workspace AND l.chat_id = :chat AND l.tg_user_id = pick.tg_user_id
           AND l.outcome <> 'retry')
),
-- A place in the chat's cap for today (all of the workspace's accounts): the upsert re-reads
-- the row under its lock, so claims made at once cannot pass the cap together. A person the
-- cap has no place for today stays pending (`claimed` leaves them alone).
quota AS (
    INSERT INTO target_day_counts AS q (workspace_id, chat_id, day, sent)
    SELECT :workspace, :chat, CAST(timezone('UTC', clock_timestamp()) AS date), 1 FROM fresh
    ON CONFLICT (workspace_id, chat_id, day) DO UPDATE SET sent = q.sent + 1
     WHERE q.sent < :per_target
    RETURNING 1
),
led AS (
    INSERT INTO invite_ledger AS l (workspace_id, chat_id, tg_user_id, outcome, campaign_id, account_id, updated_at)
    SELECT :workspace, :chat, pick.tg_user_id, 'sending', :campaign, :account, clock_timestamp()
      FROM pick WHERE NOT EXISTS (SELECT 1 FROM opted) AND EXISTS (SELECT 1 FROM quota)
    ON CONFLICT (workspace_id, chat_id, tg_user_id) DO UPDATE
       SET outcome = 'sending', reason = NULL, campaign_id = EXCLUDED.campaign_id,
           account_id = EXCLUDED.account_id, updated_at = EXCLUDED.updated_at
     WHERE l.outcome = 'retry'
    RETURNING 1
),
claimed AS (
    UPDATE campaign_targets t
       SET state = (CASE WHEN EXISTS (SELECT 1 FROM led) THEN 'sending' ELSE 'skipped' END)::campaign_target_state,
           reason = CASE WHEN EXISTS (SELECT 1 FROM led) THEN NULL
                         WHEN EXISTS (SELECT 1 FROM opted) THEN 'opted_out' ELSE 'attempted_before' END,
           account_id = :account, claim_epoch = :epoch,
           claimed_until = clock_timestamp() + make_interval(secs => :ttl),
           attempts = t.attempts + (CASE WHEN EXISTS (SELECT 1 FROM led) THEN 1 ELSE 0 END),
           updated_at = clock_timestamp()
      FROM pick WHERE t.id = pick.id AND (EXISTS (SELECT 1 FROM quota) OR NOT EXISTS (SELECT 1 FROM fresh))
    RETURNING t.id, t.tg_user_id, t.username, t.seen_by_account_id, t.access_hash, t.state, t.attempts
)"""
_CLAIM = "WITH" + _CLAIM_STEPS + "\nSELECT * FROM claimed"
# Both picks in one statement: the account's own sightings first, anyone's only when it has
# none. A WITH query runs only when read, so the second pick (and the row it would lock) is
# not even run when the first finds someone.
_PICK_EITHER = f"""
    WITH mine AS ({_PICK_MINE}), other AS ({_PICK_ANY})
    SELECT id, tg_user_id FROM mine
    UNION ALL
    SELECT id, tg_user_id FROM other WHERE NOT EXISTS (SELECT 1 FROM mine)
"""
_CLAIM_ANY = text(_CLAIM.format(pick=_PICK_ANY))
_CLAIM_EITHER = text(_CLAIM.format(pick=_PICK_EITHER))

# One attempt's result: the target leaves `sending` only if the claim is still this one
# (account, epoch, attempt) and, when fenced, only while the account's lease holds; the
# ledger and the event are written only if it did.
_SETTLE_STEPS = """
target AS (
    UPDATE campaign_targets
       SET state = CAST(:state AS campaign_target_state), reason = :reason,
           not_before = CASE WHEN CAST(:retry_s AS double precision) IS NULL THEN NULL
                             ELSE clock_timestamp() + make_interval(secs => CAST(:retry_s AS double precision)) END,
           claimed_until = NULL, attempts = attempts - CAST(:refund AS integer),
           updated_at = clock_timestamp()
     WHERE id = :id AND state = CAST(:from_state AS campaign_target_state) AND account_id = :account
       AND claim_epoch = :epoch AND attempts = :attempts {fence}
    RETURNING tg_user_id
),
ledger AS (
    UPDATE invite_ledger SET outcome = :outcome, reason = :reason, updated_at = clock_timestamp()
     WHERE workspace_id = :workspace AND chat_id = :chat AND tg_user_id = :user
       AND outcome = :from_ledger AND EXISTS (SELECT 1 FROM target)
),
event AS (
    INSERT INTO invite_events (at, workspace_id, campaign_id, account_id, chat_id, tg_user_id,
                               outcome, reason, error, counted)
    SELECT clock_timestamp(), :workspace, :campaign, :event_account, :chat, target.tg_user_id,
           :event_outcome, :reason, :error, :counted
      FROM target WHERE CAST(:record AS boolean)
),
-- A claim whose call spent no quota (given back unsent, a flood wait, nobody to name) gives
-- its place in the chat's cap for today back.
unreserved AS (
    UPDATE target_day_counts SET sent = sent - 1
     WHERE workspace_id = :workspace AND chat_id = :chat
       AND day = CAST(timezone('UTC', clock_timestamp()) AS date) AND sent > 0
       AND NOT CAST(:counted AS boolean) AND CAST(:from_state AS text) = 'sending'
       AND EXISTS (SELECT 1 FROM target)
),
-- An unconfirmed attempt already has its event (it spent the quota when it was made): the
-- membership check gives that event its outcome, so one attempt stays one event.
resolved AS (
    UPDATE invite_events SET outcome = :event_outcome, reason = :reason
     WHERE campaign_id = :campaign AND tg_user_id = :user AND outcome = 'unconfirmed'
       AND CAST(:resolve AS boolean) AND EXISTS (SELECT 1 FROM target)
)"""
_FENCE = f"AND EXISTS ({HELD})"
_SETTLE = "WITH" + _SETTLE_STEPS + "\nSELECT EXISTS (SELECT 1 FROM target)"
_SETTLE_FREE = text(_SETTLE.format(fence=""))
_SETTLE_FENCED = text(_SETTLE.format(fence=_FENCE))
# A result under the lease and, only if it was accepted, the next claim: one statement, so
# one commit, and still committed before the next call. Always one row: whether the result
# was accepted, then the claim's columns (NULL when nobody was left).
_SETTLE_AND_CLAIM = text(
    "WITH"
    + _SETTLE_STEPS.format(fence=_FENCE)
    + ","
    + _CLAIM_STEPS.format(
        pick=f"SELECT id, tg_user_id FROM ({_PICK_EITHER}) AS p WHERE EXISTS (SELECT 1 FROM target)"
    )
    + """
SELECT EXISTS (SELECT 1 FROM target) AS accepted, c.*
  FROM (SELECT 1) AS one LEFT JOIN claimed AS c ON true
"""
)
# What one account has done (`core.limits.Usage`), counted in one pass over its events:
# `{account}` is the account's id (a parameter, or a column of an outer query).
_USAGE_OF = """
    SELECT count(*) FILTER (WHERE e.at >= :day) AS today,
           count(*) FILTER (WHERE e.at >= :day AND e.chat_id = :chat) AS today_in_chat,
           count(*) FILTER (WHERE e.chat_id = :chat) AS ever_in_chat,
           max(e.at) AS last_at
      FROM invite_events e
     WHERE e.account_id = {account} AND e.counted AND (e.at >= :day OR e.chat_id = :chat)
"""
# With the places taken today in the chat's cap by all of the workspace's accounts.
_USAGE = text(f"""
    SELECT u.*, coalesce((SELECT sent FROM target_day_counts
                           WHERE workspace_id = :workspace AND chat_id = :chat
                             AND day = CAST(timezone('UTC', CAST(:day AS timestamptz)) AS date)), 0)
               AS today_in_target
      FROM ({_USAGE_OF.format(account=":account")}) AS u""")
_QUOTA_LEFT = text(f"""
    SELECT EXISTS (
        SELECT 1 FROM unnest(CAST(:accounts AS bigint[])) AS a(id)
         CROSS JOIN LATERAL ({_USAGE_OF.format(account="a.id")}) AS u
         WHERE u.today < :per_account AND u.today_in_chat < :per_chat AND u.ever_in_chat < :lifetime
    ) AND coalesce((SELECT sent FROM target_day_counts
                     WHERE workspace_id = :workspace AND chat_id = :chat
                       AND day = CAST(timezone('UTC', CAST(:day AS timestamptz)) AS date)), 0) < :per_target""")
# Invites to resolve by a membership check, never by sending again: `sending` rows whose claim
# lapsed past the quarantine (the call may or may not have happened), and `unconfirmed` ones
# (Telegram accepted the call without showing the person added) once `:after` s old. Only
# people this account can name: its own sightings, nobody's, or a username.
_TO_CHECK_WHERE = """
     WHERE campaign_id = :campaign
       AND ((state = 'sending' AND claimed_until + make_interval(secs => :quarantine) < clock_timestamp())
            OR (state = 'unconfirmed' AND updated_at + make_interval(secs => :after) < clock_timestamp()))
       AND (seen_by_account_id IS NULL OR seen_by_account_id = :account OR username IS NOT NULL)"""
_TO_CHECK = text(f"""
    SELECT id, tg_user_id, username, seen_by_account_id, access_hash, state, attempts,
           account_id, claim_epoch, updated_at
      FROM campaign_targets {_TO_CHECK_WHERE}
     ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED""")
_ANY_TO_CHECK = text(f"SELECT EXISTS (SELECT 1 FROM campaign_targets {_TO_CHECK_WHERE})")


# What the automatic brake reads of each working campaign (`core.brake`), for all of them in
# one statement: the last results and the last people checked a day after being added,
# since a person last started or resumed it (`after_id`, `after_at`), and the accounts
# refused with PEER_FLOOD lately. Each part walks an index backwards a bounded number of rows.
_BRAKE_FACTS = text("""
    SELECT c.id, r.results, r.privacy, k.checked, k.gone, f.flooded
      FROM (SELECT id, coalesce(brake_after_event_id, 0) AS after_id,
                   coalesce(brake_after_at, '-infinity') AS after_at
              FROM campaigns WHERE id = ANY(CAST(:ids AS bigint[]))) AS c
     CROSS JOIN LATERAL (
           SELECT count(*) AS results,
                  count(*) FILTER (WHERE e.reason IN ('privacy_restricted', 'not_mutual_contact')) AS privacy
             FROM (SELECT reason FROM invite_events
                    WHERE campaign_id = c.id AND id > c.after_id AND outcome <> 'unconfirmed'
                    ORDER BY id DESC LIMIT :window) AS e) AS r
     CROSS JOIN LATERAL (
           SELECT count(*) AS checked, count(*) FILTER (WHERE NOT k.stayed_day) AS gone
             FROM (SELECT stayed_day FROM retention_checks
                    WHERE campaign_id = c.id AND stayed_day IS NOT NULL AND added_at > c.after_at
                    ORDER BY added_at DESC LIMIT :window) AS k) AS k
     CROSS JOIN LATERAL (
           SELECT count(DISTINCT x.account_id) AS flooded
             FROM (SELECT account_id, error, at FROM invite_events
                    WHERE campaign_id = c.id AND id > c.after_id
                    ORDER BY id DESC LIMIT :recent) AS x
            WHERE x.error = 'PEER_FLOOD' AND x.at > clock_timestamp() - make_interval(secs => :flood_window)) AS f
""")
BRAKE_RECENT_EVENTS = 1000  # PEER_FLOOD is looked for among this many latest attempts


class InviteDal:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- campaigns ----------------------------------------------------------------------
    async def create_campaign(
        self,
        workspace_id: int,
        name: str,
        audience_id: int | None,
        target_ref: str,
        *,
        user_id: int | None = None,
        limits: dict[str, Any] | None = None,
        start_at: datetime | None = None,
        active_hours: tuple[int, int] | None = None,
        trace_id: str | None = None,
    ) -> int:
        return int(
            await self.session.scalar(
                text("""INSERT INTO campaigns (workspace_id, created_by_user_id, name, audience_id, target_ref,
                                           status, priority, limits, preflight, start_at,
                                           active_from_hour, active_to_hour, trace_id)
                    VALUES (:ws, :user, :name, :audience, :ref, 'draft', 1, CAST(:limits AS jsonb), '{}',
                            :start_at, :from_h, :to_h, :trace)
                    RETURNING id"""),
                {
                    "ws": workspace_id,
                    "user": user_id,
                    "name": name,
                    "audience": audience_id,
                    "ref": target_ref,
                    "limits": _json(limits or {}),
                    "start_at": start_at,
                    "from_h": active_hours[0] if active_hours else None,
                    "to_h": active_hours[1] if active_hours else None,
                    "trace": trace_id,
                },
            )
        )

    async def delete_draft(self, campaign_id: int) -> bool:
        """Removes a draft that was never started (its targets go with it, ON DELETE CASCADE);
        anything else stays, since it has a history."""
        found = await self.session.execute(
            text("DELETE FROM campaigns WHERE id = :id AND status = 'draft' RETURNING id"),
            {"id": campaign_id},
        )
        return found.first() is not None

    async def duplicate_campaign(self, campaign_id: int, user_id: int | None, name: str) -> int:
        """A new draft with the same audience, target, hours and limits."""
        return int(
            await self.session.scalar(
                text("""INSERT INTO campaigns (workspace_id, created_by_user_id, name, audience_id, target_ref,
                                           target_chat_id, target_kind, target_title, invite_link, status,
                                           priority, limits, preflight, active_from_hour, active_to_hour)
                    SELECT workspace_id, :user, :name, audience_id, target_ref, target_chat_id, target_kind,
                           target_title, invite_link, 'draft', priority, limits, '{}', active_from_hour,
                           active_to_hour
                      FROM campaigns WHERE id = :id
                    RETURNING id"""),
                {"id": campaign_id, "user": user_id, "name": name},
            )
        )

    async def set_target(self, campaign_id: int, chat: TargetChat, link: str | None) -> None:
        await self.session.execute(
            text("""UPDATE campaigns SET target_chat_id = :chat, target_kind = :kind,
                           target_title = :title, invite_link = coalesce(:link, invite_link)
                     WHERE id = :id"""),
            {
                "id": campaign_id,
                "chat": chat.chat_id,
                "kind": chat.kind,
                "title": chat.title,
                "link": link,
            },
        )

    async def set_preflight(self, campaign_id: int, preflight: dict[str, Any]) -> None:
        await self.session.execute(
            text("UPDATE campaigns SET preflight = CAST(:p AS jsonb) WHERE id = :id"),
            {"id": campaign_id, "p": _json(preflight)},
        )

    async def fill_targets(self, campaign_id: int, in_chat: list[int] | None = None) -> int:
        """Copy the audience into the campaign (people added to it since are added too).

        People the ledger or the opt-outs (the workspace's and the installation's) already
        have are skipped at once, and people seen
        in the chat by the pre-flight are `already_member` without a call, so the
        pre-flight counts are right and no quota is spent on them. Someone imported by
        username only becomes a target without an id, resolved later by an account.
        """
        result = await self.session.execute(
            text("""
            INSERT INTO campaign_targets (campaign_id, tg_user_id, username, seen_by_account_id,
                                          access_hash, state, reason, attempts)
            SELECT c.id, m.tg_user_id, m.username, m.seen_by_account_id, m.access_hash,
                   (CASE WHEN coalesce(o.tg_user_id, g.tg_user_id) IS NOT NULL
                              OR (l.tg_user_id IS NOT NULL AND l.outcome <> 'retry')
                         THEN 'skipped'
                         WHEN m.tg_user_id = ANY(CAST(:in_chat AS bigint[])) THEN 'already_member'
                         ELSE 'pending' END)::campaign_target_state,
                   CASE WHEN coalesce(o.tg_user_id, g.tg_user_id) IS NOT NULL THEN 'opted_out'
                        WHEN l.tg_user_id IS NOT NULL AND l.outcome <> 'retry' THEN 'attempted_before'
                        WHEN m.tg_user_id = ANY(CAST(:in_chat AS bigint[])) THEN 'in_chat_before' END,
                   0
              FROM campaigns c
              JOIN audience_members m ON m.audience_id = c.audience_id
              LEFT JOIN opt_outs o ON o.workspace_id = c.workspace_id AND o.tg_user_id = m.tg_user_id
              LEFT JOIN global_opt_outs g ON g.tg_user_id = m.tg_user_id
              LEFT JOIN invite_ledger l ON l.workspace_id = c.workspace_id AND l.chat_id = c.target_chat_id
                                       AND l.tg_user_id = m.tg_user_id
             WHERE c.id = :id
            ON CONFLICT (campaign_id, tg_user_id) DO NOTHING"""),
            {"id": campaign_id, "in_chat": in_chat or []},
        )
        added = int(result.rowcount or 0)  # type: ignore[attr-defined]
        result = await self.session.execute(
            text("""
            INSERT INTO campaign_targets (campaign_id, tg_user_id, username, state, attempts)
            SELECT c.id, NULL, u.username, 'pending', 0
              FROM campaigns c JOIN audience_usernames u ON u.audience_id = c.audience_id
             WHERE c.id = :id
               AND NOT EXISTS (SELECT 1 FROM campaign_targets t
                                WHERE t.campaign_id = c.id AND lower(t.username) = u.username_lower)
            ON CONFLICT DO NOTHING"""),
            {"id": campaign_id},
        )
        return added + int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def audience_ids(self, campaign_id: int) -> list[int]:
        """Telegram ids of the campaign's audience (for the pre-flight's look at the chat)."""
        rows = await self.session.scalars(
            text("""SELECT m.tg_user_id FROM campaigns c JOIN audience_members m ON m.audience_id = c.audience_id
                     WHERE c.id = :id"""),
            {"id": campaign_id},
        )
        return list(rows)

    async def follow_migration(self, workspace_id: int, old_chat: int, new_chat: int) -> int:
        """A basic group became a supergroup under a new id (core.telegram.org/api/channel,
        `migrated_to`): what the workspace did in the old chat counts in the new one. The
        ledger's people are copied (nobody is invited twice), the accounts' invites move
        (their daily and lifetime limits in the chat go on), today's places in the chat's
        cap and the membership re-checks move too. The old group is deactivated for good
        (tdlib#819), so nothing is ever counted there again. Idempotent; returns how many
        ledger rows were copied."""
        params = {"ws": workspace_id, "old": old_chat, "new": new_chat}
        copied = await self.session.execute(
            text("""INSERT INTO invite_ledger
                        (workspace_id, chat_id, tg_user_id, outcome, reason, campaign_id,
                         account_id, updated_at)
                    SELECT workspace_id, :new, tg_user_id, outcome, reason, campaign_id,
                           account_id, updated_at
                      FROM invite_ledger WHERE workspace_id = :ws AND chat_id = :old
                    ON CONFLICT DO NOTHING"""),
            params,
        )
        await self.session.execute(
            text("""UPDATE invite_events SET chat_id = :new
                     WHERE workspace_id = :ws AND chat_id = :old"""),
            params,
        )
        await self.session.execute(
            text("""WITH moved AS (
                        DELETE FROM target_day_counts
                         WHERE workspace_id = :ws AND chat_id = :old RETURNING day, sent)
                    INSERT INTO target_day_counts (workspace_id, chat_id, day, sent)
                    SELECT :ws, :new, day, sent FROM moved
                    ON CONFLICT (workspace_id, chat_id, day)
                    DO UPDATE SET sent = target_day_counts.sent + excluded.sent"""),
            params,
        )
        await self.session.execute(
            text("""UPDATE retention_checks SET chat_id = :new
                     WHERE workspace_id = :ws AND chat_id = :old"""),
            params,
        )
        return int(getattr(copied, "rowcount", 0) or 0)

    async def ever_in_chat(self, workspace_id: int, chat_id: int) -> dict[int, int]:
        """Invites each account of the workspace has ever sent into one chat."""
        rows = (
            await self.session.execute(
                text("""SELECT account_id, count(*) AS n FROM invite_events
                     WHERE workspace_id = :ws AND chat_id = :chat AND counted AND account_id IS NOT NULL
                     GROUP BY account_id"""),
                {"ws": workspace_id, "chat": chat_id},
            )
        ).all()
        return {int(r.account_id): int(r.n) for r in rows}

    async def target_summary(self, campaign_id: int) -> dict[str, int]:
        """Counts by state, with skipped people split by why (for the pre-flight)."""
        rows = (
            await self.session.execute(
                text("""SELECT CASE WHEN state = 'skipped' THEN 'skipped_' || coalesce(nullif(reason, ''), 'other')
                                ELSE state END AS k, sum(n) AS n
                      FROM campaign_target_counts WHERE campaign_id = :id GROUP BY 1 HAVING sum(n) <> 0"""),
                {"id": campaign_id},
            )
        ).all()
        return {str(r.k): int(r.n) for r in rows}

    async def reach(self, campaign_id: int, accounts: list[int]) -> tuple[int, dict[int, int], int]:
        """Who the given accounts can name among the people left to invite: (by username,
        {account: by its own access hash}, nobody). Telegram takes a person only with a
        username or the access hash the inviting account itself saw."""
        rows = (
            await self.session.execute(
                text("""SELECT CASE WHEN username IS NOT NULL THEN 'username'
                                WHEN access_hash IS NOT NULL AND seen_by_account_id = ANY(CAST(:acc AS bigint[]))
                                THEN seen_by_account_id::text ELSE 'nobody' END AS k, count(*) AS n
                      FROM campaign_targets WHERE campaign_id = :id AND state = 'pending' GROUP BY 1"""),
                {"id": campaign_id, "acc": accounts},
            )
        ).all()
        found = {str(r.k): int(r.n) for r in rows}
        by_name, nobody = found.pop("username", 0), found.pop("nobody", 0)
        return by_name, {int(k): n for k, n in found.items()}, nobody

    async def account_chat(self, account_id: int, chat_id: int) -> TargetChat | None:
        """The chat as this account resolved it before (with its own access hash)."""
        row = (
            await self.session.execute(
                text("""SELECT chat_id, kind, title, username, access_hash FROM account_chats
                     WHERE account_id = :a AND chat_id = :c"""),
                {"a": account_id, "c": chat_id},
            )
        ).one_or_none()
        return (
            TargetChat(row.chat_id, row.kind, row.title, row.username, row.access_hash)
            if row
            else None
        )

    async def save_account_chat(self, account_id: int, chat: TargetChat) -> None:
        await self.session.execute(
            text("""INSERT INTO account_chats (account_id, chat_id, access_hash, kind, title, username)
                    VALUES (:a, :c, :h, :k, :t, :u)
                    ON CONFLICT (account_id, chat_id) DO UPDATE
                       SET access_hash = EXCLUDED.access_hash, kind = EXCLUDED.kind, title = EXCLUDED.title,
                           username = EXCLUDED.username, resolved_at = now()"""),
            {
                "a": account_id,
                "c": chat.chat_id,
                "h": chat.access_hash,
                "k": chat.kind,
                "t": chat.title[:256],
                "u": chat.username,
            },
        )

    async def to_invite(self, campaign_id: int) -> bool:
        """Whether anyone of the campaign may be claimed now (or resolved by username)."""
        return bool(
            await self.session.scalar(
                text("""SELECT EXISTS (SELECT 1 FROM campaign_targets
                                    WHERE campaign_id = :id AND state = 'pending'
                                      AND (not_before IS NULL OR not_before <= clock_timestamp()))"""),
                {"id": campaign_id},
            )
        )

    async def any_to_check(
        self, campaign_id: int, account_id: int, quarantine_s: float, after_s: float
    ) -> bool:
        """Whether a lapsed or unconfirmed invite this account may check is waiting."""
        return bool(
            await self.session.scalar(
                _ANY_TO_CHECK,
                {
                    "campaign": campaign_id,
                    "account": account_id,
                    "quarantine": quarantine_s,
                    "after": after_s,
                },
            )
        )

    async def get_campaign(self, campaign_id: int) -> CampaignRow | None:
        row = (
            await self.session.execute(
                text(f"SELECT {_CAMPAIGN_COLS} FROM campaigns WHERE id = :id"), {"id": campaign_id}
            )
        ).one_or_none()
        return _campaign(row) if row is not None else None

    async def set_status(
        self, campaign_id: int, status: CampaignStatus, *, only_from: Iterable[CampaignStatus]
    ) -> bool:
        result = await self.session.execute(
            text("""UPDATE campaigns SET status = CAST(:status AS campaign_status),
                           started_at = CASE WHEN :status = 'running' THEN coalesce(started_at, clock_timestamp())
                                             ELSE started_at END,
                           finished_at = CASE WHEN :status IN ('done', 'cancelled') THEN clock_timestamp()
                                              ELSE finished_at END,
                           paused_reason = NULL, updated_at = clock_timestamp()
                     WHERE id = :id AND status = ANY(CAST(:from AS campaign_status[]))"""),
            {"id": campaign_id, "status": status.value, "from": [s.value for s in only_from]},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def exclude_account(self, campaign_id: int, account_id: int, reason: str) -> bool:
        """Take an account off a campaign's stored pre-flight (eligible and unchecked) with
        the reason, so that no worker gives it this campaign again; False when it was not on
        it (another worker did it first, or there was no pre-flight)."""
        result = await self.session.execute(
            text("""UPDATE campaigns
                       SET preflight = jsonb_set(
                               preflight || jsonb_build_object(
                                   'eligible', coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(preflight->'eligible') e
                                                         WHERE e <> to_jsonb(CAST(:account AS bigint))), '[]'::jsonb),
                                   'unchecked', coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(preflight->'unchecked') e
                                                          WHERE e <> to_jsonb(CAST(:account AS bigint))), '[]'::jsonb)),
                               ARRAY['excluded', CAST(:account AS text)], to_jsonb(CAST(:reason AS text)), true)
                     WHERE id = :id AND jsonb_typeof(preflight->'excluded') = 'object'
                       AND (coalesce(preflight->'eligible', '[]'::jsonb) @> to_jsonb(ARRAY[CAST(:account AS bigint)])
                            OR coalesce(preflight->'unchecked', '[]'::jsonb) @> to_jsonb(ARRAY[CAST(:account AS bigint)]))"""),
            {"id": campaign_id, "account": account_id, "reason": reason},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def brake_facts(
        self, campaign_ids: list[int], rules: BrakeRules
    ) -> dict[int, BrakeFacts]:
        """`core.brake.BrakeFacts` per campaign id, counted since the brake last paused it
        (older results and checks do not count after a person resumed it)."""
        if not campaign_ids:
            return {}
        rows = (
            await self.session.execute(
                _BRAKE_FACTS,
                {
                    "ids": campaign_ids,
                    "window": rules.window,
                    "recent": BRAKE_RECENT_EVENTS,
                    "flood_window": rules.peer_flood_window_s,
                },
            )
        ).all()
        return {
            int(r.id): BrakeFacts(
                int(r.results), int(r.privacy), int(r.checked), int(r.gone), int(r.flooded)
            )
            for r in rows
        }

    async def pause_itself(self, campaign_id: int, reason: str) -> bool:
        """A working campaign stops by itself (e.g. the chat is full); people stay to do."""
        result = await self.session.execute(
            text("""UPDATE campaigns SET status = 'paused', paused_reason = :reason, waiting_reason = NULL,
                           updated_at = clock_timestamp(),
                           -- the brake's next window starts after what made it stop
                           brake_after_event_id = CASE WHEN CAST(:reason AS varchar) LIKE 'brake\\_%'
                               THEN (SELECT coalesce(max(id), 0) FROM invite_events)
                               ELSE brake_after_event_id END,
                           brake_after_at = CASE WHEN CAST(:reason AS varchar) LIKE 'brake\\_%'
                               THEN clock_timestamp() ELSE brake_after_at END
                     WHERE id = :id AND status IN ('running', 'waiting')"""),
            {"id": campaign_id, "reason": reason},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def end_cooldowns(self) -> int:
        """Accounts whose flood wait is over are `active` again, so every view shows what
        they are (a `parked` one waits for @SpamBot's word instead: the health check)."""
        result = await self.session.execute(
            text(
                """UPDATE telegram_accounts SET status = 'active', status_reason = NULL, cooldown_until = NULL,
                      updated_at = clock_timestamp()
                WHERE status = 'cooldown' AND cooldown_until <= clock_timestamp()"""
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def start_due(self) -> int:
        """Scheduled campaigns whose start time has come begin running."""
        result = await self.session.execute(
            text(
                """UPDATE campaigns SET status = 'running', started_at = coalesce(started_at, clock_timestamp())
                WHERE status = 'scheduled' AND (start_at IS NULL OR start_at <= clock_timestamp())"""
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def working_campaigns(self, workspace_id: int | None = None) -> list[CampaignRow]:
        rows = (
            await self.session.execute(
                text(f"""SELECT {_CAMPAIGN_COLS} FROM campaigns
                      WHERE status IN ('running', 'waiting') AND target_chat_id IS NOT NULL
                        AND (CAST(:ws AS bigint) IS NULL OR workspace_id = :ws)
                      ORDER BY priority DESC, id"""),
                {"ws": workspace_id},
            )
        ).all()
        return [_campaign(r) for r in rows]

    async def finish_if_done(self, campaign_id: int) -> bool:
        result = await self.session.execute(
            text(
                """UPDATE campaigns SET status = 'done', finished_at = clock_timestamp(), updated_at = clock_timestamp()
                WHERE id = :id AND status IN ('running', 'waiting')
                  AND NOT EXISTS (SELECT 1 FROM campaign_targets
                                   WHERE campaign_id = :id AND state IN ('pending', 'sending', 'unconfirmed'))"""
            ),
            {"id": campaign_id},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def counts(self, campaign_id: int) -> dict[str, int]:
        return (await self.counts_of([campaign_id]))[campaign_id]

    async def counts_of(self, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
        """Targets by state for each campaign (every state present, 0 when none), in one query
        over the counters (`campaign_target_counts`): a few rows per campaign, whatever its size."""
        rows = await fetch(
            self.session,
            """SELECT campaign_id, state::text AS state, sum(n) AS n FROM campaign_target_counts
                WHERE campaign_id = ANY($1::bigint[]) GROUP BY campaign_id, state""",
            campaign_ids,
        )
        pairs: dict[int, list[tuple[str, int]]] = {i: [] for i in campaign_ids}
        for r in rows:
            pairs[int(r["campaign_id"])].append((r["state"], r["n"]))
        return {i: _states(found) for i, found in pairs.items()}

    async def add_opt_out(
        self, workspace_id: int, tg_user_id: int, reason: str | None = None
    ) -> None:
        await self.session.execute(
            text("""INSERT INTO opt_outs (workspace_id, tg_user_id, reason) VALUES (:ws, :u, :r)
                    ON CONFLICT DO NOTHING"""),
            {"ws": workspace_id, "u": tg_user_id, "r": reason},
        )

    # --- people known by username only ----------------------------------------------------------
    async def unresolved(self, campaign_id: int, limit: int) -> list[tuple[int, str]]:
        """Pending targets without an id (imported by username), a few at a time."""
        rows = (
            await self.session.execute(
                text("""SELECT id, username FROM campaign_targets
                     WHERE campaign_id = :id AND state = 'pending' AND tg_user_id IS NULL
                     ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"""),
                {"id": campaign_id, "limit": limit},
            )
        ).all()
        return [(int(r.id), str(r.username)) for r in rows]

    async def set_resolved(
        self, target_id: int, campaign_id: int, tg_user_id: int, access_hash: int, account_id: int
    ) -> bool:
        """Give a username-only target its id; False when the person is already a target."""
        result = await self.session.execute(
            text("""UPDATE campaign_targets SET tg_user_id = :user, access_hash = :hash,
                           seen_by_account_id = :account, updated_at = clock_timestamp()
                     WHERE id = :id AND tg_user_id IS NULL
                       AND NOT EXISTS (SELECT 1 FROM campaign_targets
                                        WHERE campaign_id = :campaign AND tg_user_id = :user)"""),
            {
                "id": target_id,
                "campaign": campaign_id,
                "user": tg_user_id,
                "hash": access_hash,
                "account": account_id,
            },
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def skip_target(self, target_id: int, reason: str) -> None:
        await self.session.execute(
            text("""UPDATE campaign_targets SET state = 'skipped', reason = :reason, updated_at = clock_timestamp()
                     WHERE id = :id AND state = 'pending'"""),
            {"id": target_id, "reason": reason},
        )

    # --- the campaign's state as workers see it ----------------------------------------------------
    async def quota_left(
        self,
        campaign: CampaignRow,
        account_ids: list[int],
        day: datetime,
        limits: InviteLimits,
    ) -> bool:
        """Whether any of these (usable) accounts may still invite into the chat today, and
        the chat's own cap for today (all of the workspace's accounts) has room."""
        if not account_ids:
            return False
        return bool(
            await self.session.scalar(
                _QUOTA_LEFT,
                {
                    "accounts": account_ids,
                    "day": day,
                    "chat": campaign.target_chat_id,
                    "workspace": campaign.workspace_id,
                    "per_account": limits.daily_per_account,
                    "per_chat": limits.daily_per_chat,
                    "lifetime": limits.lifetime_per_chat,
                    "per_target": limits.daily_per_target,
                },
            )
        )

    async def progress_marks(
        self, campaign_ids: list[int]
    ) -> dict[int, tuple[int, str, int | None]]:
        """Per campaign: (finished targets, status, creator's Telegram id) — what progress
        notices are decided from."""
        if not campaign_ids:
            return {}
        rows = (
            await self.session.execute(
                text("""SELECT c.id, c.status::text AS status, u.telegram_id,
                           (SELECT coalesce(sum(t.n), 0) FROM campaign_target_counts t
                             WHERE t.campaign_id = c.id AND t.state NOT IN ('pending', 'sending', 'unconfirmed')) AS finished
                      FROM campaigns c
                      LEFT JOIN users u ON u.id = c.created_by_user_id
                     WHERE c.id = ANY(CAST(:ids AS bigint[]))"""),
                {"ids": campaign_ids},
            )
        ).all()
        return {int(r.id): (int(r.finished), str(r.status), r.telegram_id) for r in rows}

    async def finished_since(self, since: datetime) -> list[int]:
        rows = await self.session.scalars(
            text(
                "SELECT id FROM campaigns WHERE status = 'done' AND finished_at >= :since ORDER BY id"
            ),
            {"since": since},
        )
        return [int(i) for i in rows]

    async def workspaces_with_invites(
        self, start: datetime, end: datetime
    ) -> list[tuple[int, int]]:
        """(workspace id, owner's Telegram id) of workspaces with attempts in [start, end)."""
        rows = (
            await self.session.execute(
                text("""SELECT w.id, u.telegram_id FROM workspaces w JOIN users u ON u.id = w.owner_id
                     WHERE EXISTS (SELECT 1 FROM invite_events e
                                    WHERE e.workspace_id = w.id AND e.at >= :start AND e.at < :end)
                     ORDER BY w.id"""),
                {"start": start, "end": end},
            )
        ).all()
        return [(int(r.id), int(r.telegram_id)) for r in rows]

    # --- what people see -----------------------------------------------------------------------
    async def campaign_view(self, workspace_id: int, campaign_id: int) -> CampaignDTO | None:
        row = await fetchrow(
            self.session,
            f"SELECT {_VIEW_COLS} FROM campaigns WHERE id = $1 AND workspace_id = $2",
            campaign_id,
            workspace_id,
        )
        return _view(row) if row is not None else None

    async def find_campaign(self, campaign_id: int) -> CampaignDTO | None:
        """A campaign by id alone (workers and notices; never for a user's request)."""
        row = (
            await self.session.execute(
                text(f"SELECT {_VIEW_COLS} FROM campaigns WHERE id = :id"), {"id": campaign_id}
            )
        ).one_or_none()
        return _view(row._mapping) if row is not None else None

    async def find_campaigns(self, campaign_ids: list[int]) -> dict[int, CampaignDTO]:
        """Several campaigns by id in one query (the API's stream feed; never for a user's
        request without a tenancy check)."""
        rows = await fetch(
            self.session,
            f"SELECT {_VIEW_COLS} FROM campaigns WHERE id = ANY($1::bigint[])",
            campaign_ids,
        )
        return {int(r["id"]): _view(r) for r in rows}

    async def list_campaigns(
        self,
        workspace_id: int,
        *,
        before_id: int | None,
        limit: int,
        statuses: list[str] | None = None,
    ) -> list[CampaignDTO]:
        rows = await fetch(
            self.session,
            _CAMPAIGNS_PAGE.format(columns=_VIEW_COLS, limit=row_limit(limit)),
            workspace_id,
            before_id,
            statuses,
        )
        return [_view(r) for r in rows]

    async def campaigns_with_counts(
        self,
        workspace_id: int,
        *,
        before_id: int | None,
        limit: int,
        statuses: list[str] | None = None,
    ) -> list[tuple[CampaignDTO, dict[str, int]]]:
        """`list_campaigns` with each campaign's `counts`, in one statement."""
        rows = await fetch(
            self.session,
            _CAMPAIGNS_PAGE.format(
                columns=f"{_VIEW_COLS}, {_STATE_COUNTS}", limit=row_limit(limit)
            ),
            workspace_id,
            before_id,
            statuses,
        )
        return [(_view(r), _states(r["counts"] or ())) for r in rows]

    async def campaign_with_counts(
        self, workspace_id: int, campaign_id: int
    ) -> tuple[CampaignDTO, dict[str, int]] | None:
        """`campaign_view` with the campaign's `counts`, in one statement."""
        row = await fetchrow(
            self.session,
            f"SELECT {_VIEW_COLS}, {_STATE_COUNTS} FROM campaigns c WHERE id = $1 AND workspace_id = $2",
            campaign_id,
            workspace_id,
        )
        return None if row is None else (_view(row), _states(row["counts"] or ()))

    async def set_campaign_message(self, campaign_id: int, chat_id: int, message_id: int) -> None:
        await self.session.execute(
            text("UPDATE campaigns SET notify_chat_id = :c, notify_message_id = :m WHERE id = :id"),
            {"id": campaign_id, "c": chat_id, "m": message_id},
        )

    async def set_waiting(self, campaign_id: int, reason: str | None) -> bool:
        """running ↔ waiting, as the workers see the accounts' quota and the active hours."""
        if reason is None:
            sql = """UPDATE campaigns SET status = 'running', waiting_reason = NULL, updated_at = clock_timestamp()
                      WHERE id = :id AND status = 'waiting'"""
        else:
            sql = """UPDATE campaigns SET status = 'waiting', waiting_reason = :reason, updated_at = clock_timestamp()
                      WHERE id = :id AND (status = 'running' OR (status = 'waiting'
                                           AND waiting_reason IS DISTINCT FROM :reason))"""
        result = await self.session.execute(text(sql), {"id": campaign_id, "reason": reason})
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def tally(self, campaign_id: int) -> tuple[dict[str, int], dict[str, int]]:
        """Targets by state (every state present) and why targets failed or were skipped
        ({reason code: people}, most first), in one read of the counters."""
        return _tally_of(await fetch(self.session, _COUNTS_BY_REASON_SQL, campaign_id))

    async def follow_ups(
        self, campaign_id: int, *, after_id: int, limit: int
    ) -> list[tuple[int, FollowUpDTO]]:
        """People an invite could not add because of their privacy: share the link with them."""
        rows = await fetch(
            self.session, _FOLLOW_UPS_SQL, campaign_id, _FOLLOW_UP_REASONS, after_id, limit
        )
        return [_follow_up_of(r) for r in rows]

    async def campaign_report(
        self,
        workspace_id: int,
        campaign_id: int,
        *,
        follow_up_after: int,
        follow_up_limit: int,
        setting: str,
    ) -> ReportReads | None:
        """A campaign of the workspace with everything its report shows, in one statement:
        `tally`, each account's part and what it spent today (UTC), a page of `follow_ups`
        and the installation setting named `setting` (the admins' maximums). None: no such
        campaign in the workspace."""
        row = await fetchrow(
            self.session,
            _report_sql(follow_up_limit),
            campaign_id,
            workspace_id,
            _FOLLOW_UP_REASONS,
            follow_up_after,
            setting,
        )
        if row is None:
            return None
        counts, reasons = _tally_of(row["tally"] or ())
        return ReportReads(
            _view(row),
            counts,
            reasons,
            [_usage_of(u) for u in row["usage"] or ()],
            [_follow_up_of(f) for f in row["follow_ups"] or ()],
            row["setting"],
        )

    async def campaign_events(
        self, workspace_id: int, campaign_id: int, *, after_id: int, limit: int
    ) -> list[InviteEventDTO] | None:
        """A page of a campaign's attempts, oldest first, read with the check that the campaign
        is the workspace's (None: it is not) in one statement."""
        found = page_under(
            await fetch(
                self.session,
                f"""SELECT e.* FROM campaigns c
                     LEFT JOIN LATERAL (
                       SELECT e.id, e.at, e.account_id, a.username AS a_username, a.first_name AS a_first,
                              e.tg_user_id, m.username, e.outcome, e.reason, e.error
                         FROM invite_events e
                         LEFT JOIN telegram_accounts a ON a.id = e.account_id
                         LEFT JOIN audience_members m ON m.audience_id = c.audience_id AND m.tg_user_id = e.tg_user_id
                        WHERE e.campaign_id = $1 AND e.id > $3
                        ORDER BY e.id {row_limit(limit)}) e ON true
                    WHERE c.id = $1 AND c.workspace_id = $2
                    ORDER BY e.id""",
                campaign_id,
                workspace_id,
                after_id,
            ),
            "id",
        )
        if found is None:
            return None
        return [
            InviteEventDTO(
                int(r["id"]),
                r["at"],
                r["account_id"],
                account_label(r["a_username"], r["a_first"] or "")
                if r["account_id"] and r["a_first"] is not None
                else None,
                int(r["tg_user_id"]),
                r["username"],
                str(r["outcome"]),
                r["reason"],
                r["error"],
            )
            for r in found
        ]

    async def workspace_counts(self, workspace_id: int) -> dict[str, int]:
        """Targets by state over every campaign of the workspace: the sum of the same counters
        each campaign's page reads (`counts_of`), so the overview cannot disagree with them."""
        rows = (
            await self.session.execute(
                text("""SELECT c.state, sum(c.n) AS n FROM campaign_target_counts c
                     JOIN campaigns k ON k.id = c.campaign_id
                     WHERE k.workspace_id = :ws GROUP BY c.state"""),
                {"ws": workspace_id},
            )
        ).all()
        found = {s.value: 0 for s in TargetState}
        for r in rows:
            if str(r.state) in found:
                found[str(r.state)] = int(r.n)
        return found

    async def attempts_since(self, workspace_id: int, since: datetime) -> tuple[int, int]:
        """(invite calls that spent an account's quota, people added) since `since`, from the
        journal: the first is what the daily limits count (each account's `usage_today`)."""
        row = (
            await self.session.execute(
                text("""SELECT count(*) FILTER (WHERE counted) AS attempts,
                            count(*) FILTER (WHERE outcome = 'invited') AS added
                     FROM invite_events WHERE workspace_id = :ws AND at >= :since"""),
                {"ws": workspace_id, "since": since},
            )
        ).one()
        return int(row.attempts), int(row.added)

    async def invites_today(self, workspace_id: int, day: datetime) -> dict[str, int]:
        """Attempts since the start of the UTC day by outcome (the daily report, the dashboard)."""
        return await self.invites_between(workspace_id, day, None)

    async def invites_between(
        self, workspace_id: int, start: datetime, end: datetime | None
    ) -> dict[str, int]:
        """Attempts in `[start, end)` by outcome (`end` None: until now), e.g. one past UTC day."""
        rows = (
            await self.session.execute(
                text("""SELECT outcome, count(*) AS n FROM invite_events
                     WHERE workspace_id = :ws AND at >= :start
                       AND (CAST(:end AS timestamptz) IS NULL OR at < :end)
                     GROUP BY outcome"""),
                {"ws": workspace_id, "start": start, "end": end},
            )
        ).all()
        return {str(r.outcome): int(r.n) for r in rows}

    # --- the journal ------------------------------------------------------------------------
    async def claim(
        self,
        campaign: CampaignRow,
        account_id: int,
        epoch: int,
        ttl_s: float,
        *,
        mine_first: bool,
        reachable: list[int],
        per_target: int,
    ) -> Claimed | None:
        """Claim one pending person for this account (its own sightings first), within the
        chat's cap for today (`per_target`, all of the workspace's accounts). One statement."""
        claim = _CLAIM_EITHER if mine_first else _CLAIM_ANY
        row = (
            await self.session.execute(
                claim, _claim_params(campaign, account_id, epoch, ttl_s, reachable, per_target)
            )
        ).one_or_none()
        return _claimed(row) if row is not None else None

    async def settle(
        self,
        campaign: CampaignRow,
        target: Claimed,
        account_id: int,
        epoch: int,
        effect: Effect,
        *,
        retry_s: int | None,
        event_account_id: int | None = None,
        record_event: bool = True,
        lease: Lease | None = None,
    ) -> bool:
        """Write one attempt's result; False (and nothing written) when the claim is no longer
        this one's or, with `lease`, when that lease no longer holds. One statement.
        A target left `unconfirmed` is settled from there by its membership check."""
        params = _settle_params(
            campaign,
            target,
            account_id,
            epoch,
            effect,
            retry_s,
            event_account_id or account_id,
            record_event,
            target.state,
        )
        if lease is None:
            return bool(await self.session.scalar(_SETTLE_FREE, params))
        return bool(await self.session.scalar(_SETTLE_FENCED, params | held_params(lease)))

    async def settle_and_claim(
        self,
        campaign: CampaignRow,
        target: Claimed,
        account_id: int,
        epoch: int,
        effect: Effect,
        *,
        retry_s: int | None,
        lease: Lease,
        ttl_s: float,
        reachable: list[int],
        per_target: int,
    ) -> tuple[bool, Claimed | None]:
        """`settle` under `lease` then, only if the result was accepted, `claim` (own sightings
        first), in one statement: (accepted, the claim or None when nobody was claimable)."""
        row = (
            await self.session.execute(
                _SETTLE_AND_CLAIM,
                (
                    _settle_params(
                        campaign, target, account_id, epoch, effect, retry_s, account_id, True
                    )
                    | _claim_params(campaign, account_id, epoch, ttl_s, reachable, per_target)
                    | held_params(lease)
                ),
            )
        ).one()
        return bool(row.accepted), (_claimed(row) if row.id is not None else None)

    async def to_check(
        self, campaign_id: int, account_id: int, quarantine_s: float, after_s: float, limit: int
    ) -> list[Any]:
        """Lapsed and unconfirmed invites this account may check (locked for this transaction)."""
        return list(
            (
                await self.session.execute(
                    _TO_CHECK,
                    {
                        "campaign": campaign_id,
                        "account": account_id,
                        "quarantine": quarantine_s,
                        "after": after_s,
                        "limit": limit,
                    },
                )
            ).all()
        )

    async def usage(self, account_id: int, chat_id: int, day: datetime, workspace_id: int) -> Usage:
        row = (
            await self.session.execute(
                _USAGE,
                {"account": account_id, "chat": chat_id, "day": day, "workspace": workspace_id},
            )
        ).one()
        return Usage(
            int(row.today),
            int(row.today_in_chat),
            int(row.ever_in_chat),
            row.last_at,
            int(row.today_in_target),
        )


def _claim_params(
    campaign: CampaignRow,
    account_id: int,
    epoch: int,
    ttl_s: float,
    reachable: list[int],
    per_target: int,
) -> dict[str, Any]:
    return {
        "campaign": campaign.id,
        "workspace": campaign.workspace_id,
        "chat": campaign.target_chat_id,
        "account": account_id,
        "epoch": epoch,
        "ttl": ttl_s,
        "reachable": reachable,
        "per_target": per_target,
    }


def _claimed(row: Any) -> Claimed:
    return Claimed(
        row.id,
        row.tg_user_id,
        row.username,
        row.seen_by_account_id,
        row.access_hash,
        TargetState(row.state),
        row.attempts,
    )


def _settle_params(
    campaign: CampaignRow,
    target: Claimed,
    account_id: int,
    epoch: int,
    effect: Effect,
    retry_s: int | None,
    event_account_id: int,
    record_event: bool,
    from_state: TargetState = TargetState.SENDING,
) -> dict[str, Any]:
    return {
        "id": target.id,
        "state": effect.state.value,
        "reason": effect.reason,
        "retry_s": retry_s if effect.retry else None,
        "account": account_id,
        "epoch": epoch,
        "attempts": target.attempts,
        "outcome": effect.ledger.value,
        "workspace": campaign.workspace_id,
        "campaign": campaign.id,
        "chat": campaign.target_chat_id,
        "user": target.tg_user_id,
        "event_account": event_account_id,
        "event_outcome": effect.event_outcome,
        "error": effect.error,
        "refund": int(effect.refund),
        "counted": effect.spends_quota,
        "from_state": from_state.value,
        "record": record_event and from_state is not TargetState.UNCONFIRMED,
        "resolve": from_state is TargetState.UNCONFIRMED,
        "from_ledger": from_state.value,
    }


def _json(value: Any) -> str:
    return json.dumps(value)
