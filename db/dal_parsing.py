"""SQL for the parse engine (the worker side of parse tasks, DESIGN §6).

A worker claims a task with an expiring claim and an epoch (fencing, as account leases
do): every write of the engine names the epoch it holds and the `running` status, so a
user's pause or cancel, or another worker that took an expired claim over, makes the next
write a no-op instead of being overwritten. One batch (new members, the audience's size,
the task's counters and its cursor) is one transaction: a crash loses at most the batch
in flight and never counts anything twice. All times come from the database clock.

Every method but `write` is one statement, so it runs in autocommit: a single statement is
its own transaction, and BEGIN and COMMIT would be two more round trips each time (a task's
fixed cost is mostly round trips: the claim, the accounts, the lease, describing the source).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from core.dto import AccountDTO, AccountStatus
from core.parsing import JOIN_TARGET_ACTION, Person
from db.dal_accounts import account_dto
from db.driver import driver_of
from db.models import TelegramAccount

DEADLOCK_RETRIES = 3
_DEADLOCK = "40P01"

_CLAIM = text(
    """
    UPDATE parse_tasks AS t
       SET status = 'running',
           claimed_by = :owner,
           claim_epoch = t.claim_epoch + 1,
           claim_expires_at = clock_timestamp() + make_interval(secs => :ttl),
           started_at = coalesce(t.started_at, clock_timestamp()),
           not_before = NULL,
           updated_at = clock_timestamp()
      FROM (SELECT q.id FROM parse_tasks AS q
             WHERE (q.status = 'queued'
                    AND (q.not_before IS NULL OR q.not_before <= clock_timestamp()))
                OR (q.status = 'running'
                    AND (q.claim_expires_at IS NULL OR q.claim_expires_at < clock_timestamp()))
             ORDER BY q.priority, q.id
             LIMIT :limit
             FOR UPDATE SKIP LOCKED) AS pick
     WHERE t.id = pick.id
    RETURNING t.id, t.workspace_id, t.kind, t.source, t.audience_id, t.speed, t.priority,
              t.params, t.cursor, t.claim_epoch, t.started_at, t.trace_id,
              (SELECT u.telegram_id FROM users AS u WHERE u.id = t.created_by_user_id)
                  AS creator_telegram_id
    """
)
_FENCE = "id = :id AND status = 'running' AND claim_epoch = :epoch"
_RENEW = text(
    f"""
    UPDATE parse_tasks SET claim_expires_at = clock_timestamp() + make_interval(secs => :ttl)
     WHERE {_FENCE}
    RETURNING id
    """
)
_DESCRIBE = text(
    f"""
    UPDATE parse_tasks
       SET source_chat_id = :chat_id, source_title = :title,
           progress_total = coalesce(CAST(:total AS bigint), progress_total),
           updated_at = clock_timestamp()
     WHERE {_FENCE}
    RETURNING id
    """
)
# A batch is one statement in autocommit (its own transaction): the rows come as one jsonb
# array of arrays (`_rows`), and the statement locks the task row if the claim still holds
# (waiting out a concurrent pause, then seeing it), inserts who is new only then, grows the
# audience by exactly that and moves the task on. A pause that comes later waits for the
# statement's commit; one that came first makes it change nothing and return no row.
# One round trip a batch: a BEGIN, a COPY and a COMMIT of their own each waited for the
# event loop, which is busy reading the next page. jsonb rather than one array a column:
# asyncpg checks every array element's type in Python (2 µs a row against 0.9 µs; the
# server's work is the same, 1.3 µs a row).
# The members' references (migration e5b7c9d1f3a2) are checked here once, not a row at a
# time: the audience is held with FOR KEY SHARE, before the task row, in the order a deletion
# of the audience locks them (its cascade reaches the task), and its trigger then removes
# what this statement wrote. An account gone (unlinked) leaves the rows without a seer and
# without its access hash, which no other account can use.
_WRITE = """
    WITH parent AS (
        SELECT id FROM audiences WHERE id = $3::bigint FOR KEY SHARE
    ), fence AS (
        SELECT id FROM parse_tasks
         WHERE id = $1 AND status = 'running' AND claim_epoch = $2
           AND EXISTS (SELECT 1 FROM parent)
           FOR UPDATE
    ), seer AS (
        SELECT id FROM telegram_accounts WHERE id = $5::bigint FOR KEY SHARE
    ), ins AS (
        INSERT INTO audience_members AS m
            (audience_id, tg_user_id, username, first_name, last_name, last_seen, premium,
             photo, source, seen_by_account_id, access_hash)
        SELECT $3::bigint, (r ->> 0)::bigint, r ->> 1, left(r ->> 2, 128), left(r ->> 3, 128),
               (r ->> 4)::last_seen, (r ->> 5)::boolean, (r ->> 6)::boolean, $4::text,
               seer.id, CASE WHEN seer.id IS NOT NULL THEN (r ->> 7)::bigint END
          FROM jsonb_array_elements($16::jsonb) AS r
          LEFT JOIN seer ON true
         WHERE EXISTS (SELECT 1 FROM fence)
         ORDER BY 2  -- tg_user_id: one lock order for every writer of an audience
        ON CONFLICT (audience_id, tg_user_id) DO NOTHING
        RETURNING 1
    ), n AS (
        SELECT count(*) AS c FROM ins
    ), grown AS (
        UPDATE audiences AS a SET size = a.size + n.c, updated_at = clock_timestamp()
          FROM n
         WHERE a.id = $3::bigint AND n.c > 0
        RETURNING 1
    )
    UPDATE parse_tasks AS t
       SET cursor = $6::jsonb,
           progress_done = t.progress_done + $7::bigint,
           progress_total = coalesce($8::bigint, t.progress_total),
           collected = t.collected + $9::bigint,
           skipped = t.skipped + $10::bigint,
           found_by_search = t.found_by_search + $11::bigint,
           new_members = t.new_members + n.c,
           accounts_used = CASE
               WHEN $12::text IS NULL THEN t.accounts_used
               ELSE t.accounts_used || jsonb_build_object(
                   $12::text, coalesce((t.accounts_used ->> $12::text)::bigint, 0) + $13::bigint)
           END,
           claim_expires_at = CASE WHEN $15::boolean THEN NULL
                                   ELSE clock_timestamp() + make_interval(secs => $14::float8) END,
           status = CASE WHEN $15::boolean THEN 'done'::parse_status ELSE t.status END,
           finished_at = CASE WHEN $15::boolean THEN clock_timestamp() ELSE t.finished_at END,
           updated_at = clock_timestamp()
      FROM n, fence
     WHERE t.id = fence.id
    RETURNING n.c
"""
_FAIL = text(
    f"""
    UPDATE parse_tasks
       SET status = 'failed', error = :error, cursor = CAST(:cursor AS jsonb),
           finished_at = clock_timestamp(), claim_expires_at = NULL,
           updated_at = clock_timestamp()
     WHERE {_FENCE}
    RETURNING id
    """
)
_REQUEUE = text(
    f"""
    UPDATE parse_tasks
       SET status = 'queued', not_before = :not_before, cursor = CAST(:cursor AS jsonb),
           claim_expires_at = NULL, error = :note, updated_at = clock_timestamp()
     WHERE {_FENCE}
    RETURNING id
    """
)
# A worker shutting down hands its task over at once instead of letting the claim run out.
_RELEASE = text(
    f"UPDATE parse_tasks SET claim_expires_at = clock_timestamp() WHERE {_FENCE} RETURNING id"
)


def last_join_params(account_id: int) -> dict[str, str]:
    return {"account_id": str(account_id), "action": JOIN_TARGET_ACTION}


_WORKING = (AccountStatus.ACTIVE, AccountStatus.COOLDOWN, AccountStatus.PARKED)
# When an account last joined a chat: for a collection (the workers keep it in the task's
# cursor, `joined`) or for a campaign's target (the owner's join, in the audit log). One pace
# for both (`core.parsing.JOIN_GAP_S`); a rare look over small tables.
LAST_JOIN = text(
    """
    SELECT greatest(
        (SELECT max((cursor -> 'joined' ->> 'at')::timestamptz) FROM parse_tasks
          WHERE cursor -> 'joined' ->> 'account_id' = :account_id),
        (SELECT max(at) FROM audit_log
          WHERE action = :action AND details ->> 'account_id' = :account_id))
    """
)
_KNOWN = text(
    "SELECT tg_user_id FROM audience_members WHERE audience_id = :audience_id AND source = :source"
)


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    id: int
    workspace_id: int
    kind: str
    source: str
    audience_id: int
    speed: str
    priority: int
    params: dict[str, Any]
    cursor: dict[str, Any]
    epoch: int
    started_at: datetime
    creator_telegram_id: int | None
    trace_id: str | None = None  # of the request that created the task


@dataclass(slots=True)
class BatchWrite:
    """What one batch changes. `people` are the ones the filters accepted."""

    people: list[Person] = field(default_factory=list)
    cursor: dict[str, Any] = field(default_factory=dict)
    done: int = 0
    total: int | None = None
    collected: int = 0
    skipped: int = 0
    found: int = 0
    account_id: int | None = None
    items: int = 0


def _loads(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


def _deadlock(exc: Exception) -> bool:
    orig = getattr(exc, "orig", exc)
    return _DEADLOCK in (getattr(orig, "sqlstate", None), getattr(orig, "pgcode", None))


def _rows(people: list[Person]) -> str:
    """The batch as the statement's jsonb: one array a person, in `_WRITE`'s order."""
    rows = [
        (
            p.user_id,
            p.username,
            p.first_name,
            p.last_name,
            p.last_seen,
            p.premium,
            p.photo,
            p.access_hash,
        )
        for p in people
    ]
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    # PostgreSQL's text and jsonb refuse NUL. A TL string is bytes, which Telethon decodes as
    # UTF-8 (telethon/extensions/binaryreader.py `tgread_string`): nothing keeps NUL out.
    if "\\u0000" in text:
        rows = [tuple(_no_nul(v) for v in row) for row in rows]
        text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return text


def _no_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


async def _write(driver: Any, args: tuple[Any, ...]) -> int | None:
    new = await driver.fetchval(_WRITE, *args)
    return None if new is None else int(new)


class ParseStore:
    """The engine's storage: each method is its own short transaction."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], owner: str, claim_ttl_s: float
    ) -> None:
        self._sessionmaker = sessionmaker
        bind = sessionmaker.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("the sessionmaker must be bound to an AsyncEngine")
        # Batch writes are single self-fenced statements: no BEGIN/COMMIT round trips.
        self._autocommit = bind.execution_options(isolation_level="AUTOCOMMIT")
        self.owner = owner
        self.claim_ttl_s = claim_ttl_s

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection to hand to `write()` for a run of batches (saves a checkout each)."""
        async with self._autocommit.connect() as conn:
            yield conn

    async def claim(self) -> ClaimedTask | None:
        """The next task to run (priority, then age), or a running one whose worker vanished."""
        found = await self.claim_many(1)
        return found[0] if found else None

    async def claim_many(self, limit: int) -> list[ClaimedTask]:
        """Up to `limit` tasks as `claim()` takes them, in one statement: fewer than asked
        means nothing else is claimable now."""
        async with self._autocommit.connect() as conn:
            rows = (
                await conn.execute(
                    _CLAIM, {"owner": self.owner, "ttl": self.claim_ttl_s, "limit": limit}
                )
            ).all()
        return [
            ClaimedTask(
                id=row.id,
                workspace_id=row.workspace_id,
                kind=str(row.kind),
                source=row.source,
                audience_id=row.audience_id,
                speed=row.speed,
                priority=row.priority,
                params=_loads(row.params),
                cursor=_loads(row.cursor),
                epoch=row.claim_epoch,
                started_at=row.started_at,
                creator_telegram_id=row.creator_telegram_id,
                trace_id=row.trace_id,
            )
            for row in sorted(rows, key=lambda r: (r.priority, r.id))
        ]

    async def _fenced(self, statement: Any, task: ClaimedTask, **params: Any) -> bool:
        async with self._autocommit.connect() as conn:
            found = await conn.scalar(statement, {"id": task.id, "epoch": task.epoch, **params})
        return found is not None

    async def renew(self, task: ClaimedTask) -> bool:
        """Keep the claim; False once the task was paused, cancelled or taken over."""
        return await self._fenced(_RENEW, task, ttl=self.claim_ttl_s)

    async def describe(
        self, task: ClaimedTask, chat_id: int, title: str, total: int | None
    ) -> bool:
        return await self._fenced(_DESCRIBE, task, chat_id=chat_id, title=title[:256], total=total)

    async def write(
        self,
        task: ClaimedTask,
        batch: BatchWrite,
        *,
        source: str,
        finish: bool = False,
        conn: AsyncConnection | None = None,
    ) -> int | None:
        """Store a batch (and, with `finish`, mark the task done) in one transaction.

        Returns how many people were new to the audience; None when the claim no longer
        holds (paused, cancelled, taken over): then nothing at all was written.
        """
        args = (
            task.id,
            task.epoch,
            task.audience_id,
            source,
            batch.account_id,
            json.dumps(batch.cursor),
            batch.done,
            batch.total,
            batch.collected,
            batch.skipped,
            batch.found,
            str(batch.account_id) if batch.account_id is not None else None,
            batch.items,
            float(self.claim_ttl_s),
            finish,
            _rows(batch.people),
        )
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                if conn is not None:
                    return await _write(await driver_of(conn), args)
                async with self._autocommit.connect() as own:
                    return await _write(await driver_of(own), args)
            except (DBAPIError, asyncpg.DeadlockDetectedError) as exc:
                # Two tasks filling one audience may meet on the same people.
                if not _deadlock(exc) or attempt == DEADLOCK_RETRIES:
                    raise
        raise AssertionError("unreachable")

    async def fail(self, task: ClaimedTask, error: str, cursor: dict[str, Any]) -> bool:
        return await self._fenced(_FAIL, task, error=error[:64], cursor=json.dumps(cursor))

    async def requeue(
        self,
        task: ClaimedTask,
        not_before: datetime | None,
        cursor: dict[str, Any],
        note: str | None = None,
    ) -> bool:
        """Back to the queue, not to be claimed before `not_before` (e.g. a cool-down's end).
        `note` says why it waits where users see it (e.g. `join_requested`), in `error`."""
        return await self._fenced(
            _REQUEUE, task, not_before=not_before, cursor=json.dumps(cursor), note=note
        )

    async def release(self, task: ClaimedTask) -> bool:
        return await self._fenced(_RELEASE, task)

    async def accounts(self, workspace_id: int) -> list[AccountDTO]:
        """The workspace's accounts that work now or after a rest (active, cooldown, parked)."""
        async with self._sessionmaker(bind=self._autocommit) as session:
            rows = await session.scalars(
                select(TelegramAccount)
                .where(
                    TelegramAccount.workspace_id == workspace_id,
                    TelegramAccount.status.in_(_WORKING),
                )
                .order_by(TelegramAccount.id)
            )
            return [account_dto(row) for row in rows]

    async def last_join(self, account_id: int) -> datetime | None:
        """When the account last joined a chat, for a collection or a campaign's target."""
        async with self._autocommit.connect() as conn:
            found: datetime | None = await conn.scalar(LAST_JOIN, last_join_params(account_id))
            return found

    async def known_ids(self, audience_id: int, source: str) -> set[int]:
        """Who of this source the audience already holds (to count people once on resume)."""
        async with self._autocommit.connect() as conn:
            rows = await conn.scalars(_KNOWN, {"audience_id": audience_id, "source": source})
            return set(rows)
