"""Data access for retention and erasure (part of `SqlDal`): the day and week checks of
invited people, the reports over them, unused audiences, and erasing one person.

Nothing here commits. Retention rows are written by a trigger when a target becomes
`invited` (migration f3a7c9e2b841); the checks only fill in what they found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.campaigns import LedgerOutcome
from core.retention import DAY, WEEK, DueCheck, RetentionFigures, Stage, Verdict, stage_due
from db.engine import affected_rows


@dataclass(frozen=True, slots=True)
class CheckPerson:
    """A due person with what an account needs to look them up one by one."""

    check: DueCheck
    username: str | None
    seen_by_account_id: int | None
    access_hash: int | None


@dataclass(frozen=True, slots=True)
class UnusedAudience:
    id: int
    workspace_id: int
    name: str
    size: int
    owner_telegram_id: int
    last_used: datetime
    notice_at: datetime | None


# Due: not decided for the week, a day (or a week, once the day is known) past the invite,
# and not waiting after a check that could not decide. The partial index on `added_at`
# (stayed_week IS NULL) holds exactly the rows still to check.
_DUE = """
    r.stayed_week IS NULL AND r.added_at <= CAST(:now AS timestamptz) - CAST(:day AS interval)
    AND (r.stayed_day IS NULL OR r.added_at <= CAST(:now AS timestamptz) - CAST(:week AS interval))
    AND (r.not_before IS NULL OR r.not_before <= CAST(:now AS timestamptz))
"""
_FIGURES = """
    count(*) AS added,
    count(*) FILTER (WHERE r.stayed_day) AS stayed_day,
    count(*) FILTER (WHERE r.stayed_day = false) AS left_day,
    count(*) FILTER (WHERE r.stayed_week) AS stayed_week,
    count(*) FILTER (WHERE r.stayed_week = false) AS left_week
"""


def _figures(row: Any) -> RetentionFigures:
    return RetentionFigures(
        int(row.added),
        int(row.stayed_day),
        int(row.left_day),
        int(row.stayed_week),
        int(row.left_week),
    )


class RetentionSql:
    session: AsyncSession

    # --- the day and week checks -------------------------------------------------------------
    async def due_chats(self, now: datetime, limit: int = 50) -> list[tuple[int, int]]:
        """(workspace, chat) pairs with someone due for a check, oldest invite first."""
        rows = (
            await self.session.execute(
                text(f"""SELECT r.workspace_id, r.chat_id, min(r.added_at) AS first
                       FROM retention_checks r WHERE {_DUE}
                      GROUP BY r.workspace_id, r.chat_id ORDER BY first LIMIT :limit"""),
                {"now": now, "day": DAY, "week": WEEK, "limit": limit},
            )
        ).all()
        return [(r.workspace_id, r.chat_id) for r in rows]

    async def due_checks(
        self, workspace_id: int, chat_id: int, now: datetime, limit: int
    ) -> list[CheckPerson]:
        """The people of one chat due for a check, with the campaign target's sighting."""
        rows = (
            await self.session.execute(
                text(f"""SELECT r.campaign_id, r.tg_user_id, r.workspace_id, r.chat_id, r.account_id,
                            r.added_at, r.stayed_day, r.tries,
                            t.username, t.seen_by_account_id, t.access_hash
                       FROM retention_checks r
                       LEFT JOIN campaign_targets t ON t.campaign_id = r.campaign_id
                                                   AND t.tg_user_id = r.tg_user_id
                      WHERE r.workspace_id = :ws AND r.chat_id = :chat AND {_DUE}
                      ORDER BY r.added_at, r.campaign_id, r.tg_user_id LIMIT :limit"""),
                {
                    "ws": workspace_id,
                    "chat": chat_id,
                    "now": now,
                    "day": DAY,
                    "week": WEEK,
                    "limit": limit,
                },
            )
        ).all()
        found: list[CheckPerson] = []
        for r in rows:
            stage = stage_due(r.added_at, r.stayed_day, now) or Stage.DAY
            check = DueCheck(
                r.campaign_id,
                r.tg_user_id,
                r.workspace_id,
                r.chat_id,
                r.account_id,
                r.added_at,
                stage,
                r.tries,
            )
            found.append(CheckPerson(check, r.username, r.seen_by_account_id, r.access_hash))
        return found

    async def record_check(self, check: DueCheck, result: Verdict, now: datetime) -> None:
        """What a look at the chat found; someone gone is `left` in the chat's ledger, which
        keeps them out of every later campaign into it (the claim and the fill skip every
        ledger outcome but `retry`)."""
        await self.session.execute(
            text("""UPDATE retention_checks
                       SET stayed_day = coalesce(stayed_day, :day), stayed_week = :week,
                           left_at = CASE WHEN :left THEN :now ELSE left_at END,
                           not_before = NULL
                     WHERE campaign_id = :c AND tg_user_id = :u"""),
            {
                "c": check.campaign_id,
                "u": check.tg_user_id,
                "day": result.stayed_day,
                "week": result.stayed_week,
                "left": result.left,
                "now": now,
            },
        )
        if result.left:
            await self.session.execute(
                text("""UPDATE invite_ledger SET outcome = :left, updated_at = :now
                         WHERE workspace_id = :ws AND chat_id = :chat AND tg_user_id = :u
                           AND outcome = :invited"""),
                {
                    "ws": check.workspace_id,
                    "chat": check.chat_id,
                    "u": check.tg_user_id,
                    "now": now,
                    "left": LedgerOutcome.LEFT.value,
                    "invited": LedgerOutcome.INVITED.value,
                },
            )

    async def defer_check(self, check: DueCheck, until: datetime, *, give_up: bool) -> None:
        """A check that could not decide: looked at again later, or closed as unknown (both
        stages left undecided for good: counted neither as stayed nor as left)."""
        if give_up:
            await self.session.execute(
                text("""UPDATE retention_checks SET stayed_week = NULL, not_before = 'infinity', tries = tries + 1
                         WHERE campaign_id = :c AND tg_user_id = :u"""),
                {"c": check.campaign_id, "u": check.tg_user_id},
            )
            return
        await self.session.execute(
            text("""UPDATE retention_checks SET not_before = :until, tries = tries + 1
                     WHERE campaign_id = :c AND tg_user_id = :u"""),
            {"c": check.campaign_id, "u": check.tg_user_id, "until": until},
        )

    # --- reports ---------------------------------------------------------------------------------
    async def campaign_workspace(self, campaign_id: int) -> int | None:
        value = await self.session.scalar(
            text("SELECT workspace_id FROM campaigns WHERE id = :c"), {"c": campaign_id}
        )
        return None if value is None else int(value)

    async def campaign_retention(
        self, campaign_id: int
    ) -> list[tuple[int | None, str | None, RetentionFigures]]:
        """A campaign's figures per source audience (one row for most campaigns)."""
        rows = (
            await self.session.execute(
                text(f"""SELECT r.audience_id, a.name, {_FIGURES}
                       FROM retention_checks r LEFT JOIN audiences a ON a.id = r.audience_id
                      WHERE r.campaign_id = :c GROUP BY r.audience_id, a.name ORDER BY r.audience_id"""),
                {"c": campaign_id},
            )
        ).all()
        return [(r.audience_id, r.name, _figures(r)) for r in rows]

    # --- audiences kept only while used ------------------------------------------------------------
    async def audiences_unused_since(
        self, before: datetime, now: datetime, limit: int = 500
    ) -> list[UnusedAudience]:
        """Audiences whose last use (made, collected into, a campaign made from it) is before
        `before`, with their owner; a collection not finished (queued, running, paused)
        counts as a use now."""
        rows = (
            await self.session.execute(
                text("""
            SELECT a.id, a.workspace_id, a.name, a.size, u.telegram_id AS owner_tg,
                   a.retention_notice_at, used.last_used
              FROM audiences a
              JOIN workspaces w ON w.id = a.workspace_id
              JOIN users u ON u.id = w.owner_id
              CROSS JOIN LATERAL (
                  SELECT greatest(
                      a.created_at,
                      (SELECT max(CASE WHEN p.status IN ('queued', 'running', 'paused') THEN CAST(:now AS timestamptz)
                                    ELSE greatest(p.created_at, p.finished_at, p.updated_at) END)
                         FROM parse_tasks p WHERE p.audience_id = a.id),
                      (SELECT max(c.created_at) FROM campaigns c WHERE c.audience_id = a.id)
                  ) AS last_used) used
             WHERE used.last_used < :before
             ORDER BY a.id LIMIT :limit"""),
                {"before": before, "now": now, "limit": limit},
            )
        ).all()
        return [
            UnusedAudience(
                r.id,
                r.workspace_id,
                r.name,
                int(r.size),
                int(r.owner_tg),
                r.last_used,
                r.retention_notice_at,
            )
            for r in rows
        ]

    async def claim_audience_notice(
        self, audience_id: int, seen: datetime | None, at: datetime
    ) -> bool:
        """Record the notice unless another worker did since `seen` was read: the one whose
        statement changed the row tells the owner."""
        result = await self.session.execute(
            text("""UPDATE audiences SET retention_notice_at = :at
                     WHERE id = :a AND retention_notice_at IS NOT DISTINCT FROM :seen"""),
            {"a": audience_id, "at": at, "seen": seen},
        )
        return affected_rows(result) > 0

    async def delete_unused_audience(self, audience_id: int, last_used: datetime) -> bool:
        """Delete the audience unless it was used after `last_used`, when the job read it (a
        campaign or a collection made meanwhile keeps it)."""
        result = await self.session.execute(
            text("""DELETE FROM audiences a WHERE a.id = :a AND a.created_at <= :used
                       AND NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.audience_id = a.id AND c.created_at > :used)
                       AND NOT EXISTS (SELECT 1 FROM parse_tasks p WHERE p.audience_id = a.id
                                         AND (p.status IN ('queued', 'running', 'paused')
                                              OR p.created_at > :used OR p.finished_at > :used))"""),
            {"a": audience_id, "used": last_used},
        )
        return affected_rows(result) > 0

    # --- erasing one person ----------------------------------------------------------------------
    async def people_named(self, workspace_id: int, username: str) -> list[int]:
        """Telegram ids the workspace knows under a username (collected or resolved)."""
        rows = await self.session.scalars(
            text("""SELECT m.tg_user_id FROM audience_members m JOIN audiences a ON a.id = m.audience_id
                     WHERE a.workspace_id = :ws AND lower(m.username) = lower(:u)
                    UNION
                    SELECT t.tg_user_id FROM campaign_targets t JOIN campaigns c ON c.id = t.campaign_id
                     WHERE c.workspace_id = :ws AND lower(t.username) = lower(:u) AND t.tg_user_id IS NOT NULL"""),
            {"ws": workspace_id, "u": username},
        )
        return sorted(int(i) for i in rows)

    async def erase_people(
        self, workspace_id: int, ids: list[int], username: str | None, reason: str
    ) -> dict[str, int]:
        """Remove everything the workspace holds about these people, keeping one opt-out
        entry per id (so they are never invited again). Their invite events stay, with the
        person's id blanked to 0: they are the accounts' quotas, which must keep counting.
        Returns the rows touched per table."""
        p: dict[str, Any] = {"ws": workspace_id, "ids": ids}
        # Usernames the workspace saw these people under go too (a username-only entry of
        # someone since collected by id is the same person).
        names_rows = await self.session.scalars(
            text("""SELECT DISTINCT lower(m.username) FROM audience_members m
                      JOIN audiences a ON a.id = m.audience_id
                     WHERE a.workspace_id = :ws AND m.tg_user_id = ANY(:ids) AND m.username IS NOT NULL
                    UNION
                    SELECT DISTINCT lower(t.username) FROM campaign_targets t JOIN campaigns c ON c.id = t.campaign_id
                     WHERE c.workspace_id = :ws AND t.tg_user_id = ANY(:ids) AND t.username IS NOT NULL"""),
            p,
        )
        names = sorted({str(n) for n in names_rows} | ({username.lower()} if username else set()))
        p["names"] = names
        counts: dict[str, int] = {}
        gone = (
            await self.session.execute(
                text("""DELETE FROM audience_members m USING audiences a
                     WHERE m.audience_id = a.id AND a.workspace_id = :ws
                       AND (m.tg_user_id = ANY(:ids) OR lower(m.username) = ANY(:names))
                    RETURNING m.audience_id"""),
                p,
            )
        ).all()
        counts["audience_members"] = len(gone)
        per_audience: dict[int, int] = {}
        for row in gone:
            per_audience[row.audience_id] = per_audience.get(row.audience_id, 0) + 1
        for audience_id, n in per_audience.items():  # sizes are kept, never counted
            await self.session.execute(
                text("UPDATE audiences SET size = greatest(size - :n, 0) WHERE id = :a"),
                {"a": audience_id, "n": n},
            )
        counts["audience_usernames"] = affected_rows(
            await self.session.execute(
                text("""DELETE FROM audience_usernames n USING audiences a
                     WHERE n.audience_id = a.id AND a.workspace_id = :ws AND n.username_lower = ANY(:names)"""),
                p,
            )
        )
        counts["campaign_targets"] = affected_rows(
            await self.session.execute(
                text("""DELETE FROM campaign_targets t USING campaigns c
                     WHERE t.campaign_id = c.id AND c.workspace_id = :ws
                       AND (t.tg_user_id = ANY(:ids) OR (t.tg_user_id IS NULL AND lower(t.username) = ANY(:names)))"""),
                p,
            )
        )
        counts["invite_events"] = affected_rows(
            await self.session.execute(
                text(
                    "UPDATE invite_events SET tg_user_id = 0 WHERE workspace_id = :ws AND tg_user_id = ANY(:ids)"
                ),
                p,
            )
        )
        counts["invite_ledger"] = affected_rows(
            await self.session.execute(
                text(
                    "DELETE FROM invite_ledger WHERE workspace_id = :ws AND tg_user_id = ANY(:ids)"
                ),
                p,
            )
        )
        counts["retention_checks"] = affected_rows(
            await self.session.execute(
                text(
                    "DELETE FROM retention_checks WHERE workspace_id = :ws AND tg_user_id = ANY(:ids)"
                ),
                p,
            )
        )
        # Audit entries of the workspace that named the person (an opt-out added by hand)
        # keep their action and time, not the person.
        counts["audit_log"] = affected_rows(
            await self.session.execute(
                text("""UPDATE audit_log SET details = details - 'tg_user_id' - 'username' - 'person'
                     WHERE workspace_id = :ws
                       AND (details->>'tg_user_id' = ANY(CAST(:id_texts AS text[]))
                            OR lower(details->>'username') = ANY(:names)
                            OR lower(ltrim(details->>'username', '@')) = ANY(:names))"""),
                p | {"id_texts": [str(i) for i in ids]},
            )
        )
        counts["opt_outs"] = affected_rows(
            await self.session.execute(
                text("""INSERT INTO opt_outs (workspace_id, tg_user_id, reason)
                    SELECT :ws, u, :reason FROM unnest(CAST(:ids AS bigint[])) AS u
                    ON CONFLICT DO NOTHING"""),
                p | {"reason": reason},
            )
        )
        return counts
