"""SQL for audiences and parse tasks as the bot and the API see them (part of `SqlDal`).

The worker side (claiming and running tasks) lives in `db/dal_parsing.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import (
    ScalarSelect,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.audiences import MemberQuery
from core.dto import AudienceDTO, MemberDTO, ParseTaskDTO
from core.parsing import LastSeen, ParseStatus
from core.validation import is_number
from db.driver import fetch, fetchrow, page_under, row_limit
from db.engine import affected_rows
from db.models import Audience, AudienceMember, AudienceUsername, ParseTask


def _pending_count() -> ScalarSelect[int]:
    return (
        select(func.count())
        .where(AudienceUsername.audience_id == Audience.id)
        .correlate(Audience)
        .scalar_subquery()
    )


def _audience(row: Audience, pending: int) -> AudienceDTO:
    return AudienceDTO(
        row.id, row.workspace_id, row.name, row.source, row.size, pending, row.created_at
    )


def member_dto(row: AudienceMember) -> MemberDTO:
    return MemberDTO(
        user_id=row.tg_user_id,
        username=row.username,
        first_name=row.first_name,
        last_name=row.last_name,
        last_seen=LastSeen(row.last_seen).value,
        premium=row.premium,
        photo=row.photo,
        source=row.source,
    )


def task_dto(row: ParseTask) -> ParseTaskDTO:
    return ParseTaskDTO(
        id=row.id,
        workspace_id=row.workspace_id,
        created_by_user_id=row.created_by_user_id,
        kind=str(row.kind),
        source=row.source,
        source_title=row.source_title,
        audience_id=row.audience_id,
        speed=row.speed,
        priority=row.priority,
        params=dict(row.params or {}),
        status=ParseStatus(row.status).value,
        error=row.error,
        progress_done=row.progress_done,
        progress_total=row.progress_total,
        collected=row.collected,
        new_members=row.new_members,
        skipped=row.skipped,
        found_by_search=row.found_by_search,
        accounts_used=dict(row.accounts_used or {}),
        notify_chat_id=row.notify_chat_id,
        notify_message_id=row.notify_message_id,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


_MEMBER_COLS = (
    "tg_user_id, username, first_name, last_name, last_seen::text, premium, photo, source"
)


def _member_of(row: Any) -> MemberDTO:
    return MemberDTO(
        user_id=row["tg_user_id"],
        username=row["username"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        last_seen=row["last_seen"],
        premium=row["premium"],
        photo=row["photo"],
        source=row["source"],
    )


def _member_conditions(query: MemberQuery, args: list[Any]) -> list[str]:
    """SQL conditions for `query`, their values appended to `args` (numbered from its length)."""

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    found: list[str] = []
    if query.text and is_number(query.text):
        # Digits are a Telegram id: one exact match on the primary key. (Usernames cannot
        # start with a digit; a fragment of digits would walk the trigrams of every number.)
        user_id = int(query.text)
        found.append(f"tg_user_id = {arg(user_id)}" if user_id < 2**63 else "false")
    elif query.text:
        pattern = (
            "%" + query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        # The column under the trigram index `ix_audience_members_search`, lower-cased as
        # stored (by the server's `lower`, as ILIKE would): each candidate the index finds
        # is checked by a plain LIKE.
        found.append(f"search_text LIKE lower({arg(pattern)})")
    if query.last_seen is not None:
        found.append(f"last_seen = {arg(query.last_seen.value)}::last_seen")
    if query.with_username:
        found.append("username IS NOT NULL")
    if query.premium:
        found.append("premium")
    if query.photo:
        found.append("photo")
    return found


_AUDIENCE = """SELECT a.id, a.workspace_id, a.name, a.source, a.size, a.created_at,
                      (SELECT count(*) FROM audience_usernames u WHERE u.audience_id = a.id) AS pending
                 FROM audiences a WHERE a.workspace_id = $1 AND a.id = $2"""


def members_page(
    workspace_id: int, audience_id: int, after_user_id: int, limit: int, query: MemberQuery | None
) -> tuple[str, list[Any]]:
    """The statement of `audience_members` and its values: the audience's check and a page of
    its members (matching `query`) in one read."""
    args: list[Any] = [audience_id, workspace_id, after_user_id]
    where = ["audience_id = $1", "tg_user_id > $3"]
    words = query.text if query is not None else None
    searched = bool(words) and not is_number(words or "")
    if searched:  # the searched text decides the plan: planned per call (`row_limit`)
        args.append(limit)
        limit_sql = f"LIMIT ${len(args)}"
    else:
        limit_sql = row_limit(limit)
    if query is not None:
        where += _member_conditions(query, args)
    sql = f"""SELECT m.* FROM audiences a
                LEFT JOIN LATERAL (
                  SELECT {_MEMBER_COLS} FROM audience_members
                   WHERE {" AND ".join(where)} ORDER BY tg_user_id {limit_sql}) m ON true
               WHERE a.id = $1 AND a.workspace_id = $2
               ORDER BY m.tg_user_id"""
    return sql, args


class AudiencesSql:
    session: AsyncSession

    # --- audiences -------------------------------------------------------------------
    async def audience_by_name(self, workspace_id: int, name: str) -> AudienceDTO | None:
        row = (
            await self.session.execute(
                select(Audience, _pending_count()).where(
                    Audience.workspace_id == workspace_id, func.lower(Audience.name) == name.lower()
                )
            )
        ).one_or_none()
        return _audience(row[0], row[1]) if row else None

    async def create_audience(
        self, workspace_id: int, name: str, source: str | None, user_id: int
    ) -> AudienceDTO:
        """Create, or return the existing audience of that name (case-insensitive)."""
        stmt = (
            insert(Audience)
            .values(
                workspace_id=workspace_id,
                name=name,
                source=source,
                size=0,
                created_by_user_id=user_id,
            )
            .on_conflict_do_nothing()
            .returning(Audience.id)
        )
        await self.session.execute(stmt)
        found = await self.audience_by_name(workspace_id, name)
        assert found is not None
        return found

    async def get_audience(self, workspace_id: int, audience_id: int) -> AudienceDTO | None:
        row = await fetchrow(self.session, _AUDIENCE, workspace_id, audience_id)
        if row is None:
            return None
        return AudienceDTO(
            row["id"],
            row["workspace_id"],
            row["name"],
            row["source"],
            row["size"],
            row["pending"],
            row["created_at"],
        )

    async def list_audiences(
        self, workspace_id: int, *, after_id: int, limit: int
    ) -> list[AudienceDTO]:
        rows = await self.session.execute(
            select(Audience, _pending_count())
            .where(Audience.workspace_id == workspace_id, Audience.id > after_id)
            .order_by(Audience.id)
            .limit(limit)
        )
        return [_audience(r[0], r[1]) for r in rows]

    async def delete_audience(self, audience_id: int) -> None:
        await self.session.execute(delete(Audience).where(Audience.id == audience_id))

    async def audience_members(
        self,
        workspace_id: int,
        audience_id: int,
        *,
        after_user_id: int,
        limit: int,
        query: MemberQuery | None = None,
    ) -> list[MemberDTO] | None:
        """A page of members by Telegram id, read with the check that the audience is the
        workspace's (None: it is not) in one statement."""
        sql, args = members_page(workspace_id, audience_id, after_user_id, limit, query)
        found = page_under(await fetch(self.session, sql, *args), "tg_user_id")
        return None if found is None else [_member_of(r) for r in found]

    async def audience_member_batches(
        self,
        workspace_id: int,
        audience_id: int,
        batch: int = 5000,
        *,
        query: MemberQuery | None = None,
    ) -> AsyncIterator[list[MemberDTO]]:
        after = -(2**63)
        while True:
            page = await self.audience_members(
                workspace_id, audience_id, after_user_id=after, limit=batch, query=query
            )
            if not page:
                return
            yield page
            after = page[-1].user_id

    async def audience_usernames(self, audience_id: int) -> list[str]:
        rows = await self.session.scalars(
            select(AudienceUsername.username)
            .where(AudienceUsername.audience_id == audience_id)
            .order_by(AudienceUsername.username_lower)
        )
        return list(rows)

    async def add_members(
        self, audience_id: int, members: Sequence[MemberDTO], usernames: Sequence[str], source: str
    ) -> tuple[int, int] | None:
        """Insert who is not there yet; returns (new members, new usernames), or None when
        the audience is gone. The audience is held until commit (FOR KEY SHARE), so that a
        deletion waits and its trigger then removes these members too (they have no foreign
        key: migration e5b7c9d1f3a2)."""
        held = await self.session.scalar(
            select(Audience.id).where(Audience.id == audience_id).with_for_update(key_share=True)
        )
        if held is None:
            return None
        new_members = new_usernames = 0
        if members:
            result = await self.session.execute(
                insert(AudienceMember)
                .values(
                    [
                        {
                            "audience_id": audience_id,
                            "tg_user_id": m.user_id,
                            "username": m.username,
                            "first_name": m.first_name[:128],
                            "last_name": (m.last_name or None) and m.last_name[:128],
                            "last_seen": LastSeen(m.last_seen),
                            "premium": m.premium,
                            "photo": m.photo,
                            "source": source,
                        }
                        for m in members
                    ]
                )
                .on_conflict_do_nothing()
                .returning(AudienceMember.tg_user_id)
            )
            new_members = len(result.all())
        if usernames:
            known = set(
                await self.session.scalars(
                    select(func.lower(AudienceMember.username)).where(
                        AudienceMember.audience_id == audience_id,
                        func.lower(AudienceMember.username).in_([u.lower() for u in usernames]),
                    )
                )
            )
            fresh = [u for u in usernames if u.lower() not in known]
            if fresh:
                result = await self.session.execute(
                    insert(AudienceUsername)
                    .values(
                        [
                            {
                                "audience_id": audience_id,
                                "username_lower": u.lower(),
                                "username": u,
                                "source": source,
                            }
                            for u in fresh
                        ]
                    )
                    .on_conflict_do_nothing()
                    .returning(AudienceUsername.username_lower)
                )
                new_usernames = len(result.all())
        if new_members:
            await self.session.execute(
                update(Audience)
                .where(Audience.id == audience_id)
                .values(size=Audience.size + new_members)
            )
        return new_members, new_usernames

    # --- parse tasks -------------------------------------------------------------------
    async def create_parse_task(self, **fields: Any) -> ParseTaskDTO:
        task = ParseTask(**fields)
        self.session.add(task)
        await self.session.flush()
        await self.session.refresh(task)
        return task_dto(task)

    async def get_parse_task(self, workspace_id: int, task_id: int) -> ParseTaskDTO | None:
        row = await self.session.scalar(
            select(ParseTask).where(ParseTask.workspace_id == workspace_id, ParseTask.id == task_id)
        )
        return task_dto(row) if row else None

    async def find_parse_task(self, task_id: int) -> ParseTaskDTO | None:
        """By id alone: for notices from the workers, which name a task and nothing else."""
        row = await self.session.get(ParseTask, task_id)
        return task_dto(row) if row else None

    async def list_parse_tasks(
        self, workspace_id: int, *, before_id: int | None, limit: int
    ) -> list[ParseTaskDTO]:
        query = select(ParseTask).where(ParseTask.workspace_id == workspace_id)
        if before_id is not None:
            query = query.where(ParseTask.id < before_id)
        rows = await self.session.scalars(query.order_by(ParseTask.id.desc()).limit(limit))
        return [task_dto(r) for r in rows]

    async def move_parse_task(
        self,
        task_id: int,
        from_statuses: Sequence[ParseStatus],
        to_status: ParseStatus,
        **extra: Any,
    ) -> bool:
        result = await self.session.execute(
            update(ParseTask)
            .where(ParseTask.id == task_id, ParseTask.status.in_(list(from_statuses)))
            .values(status=to_status, **extra)
        )
        return bool(affected_rows(result))

    async def set_parse_task_message(self, task_id: int, chat_id: int, message_id: int) -> None:
        await self.session.execute(
            update(ParseTask)
            .where(ParseTask.id == task_id)
            .values(notify_chat_id=chat_id, notify_message_id=message_id)
        )
