"""Data access for opt-outs: the installation's list (people who sent the bot /optout) and
each workspace's own list (kept by its owner).

The invite engine and the pre-flight read both lists inside their own statements
(`db/dal_invites.py`: the claim's `opted` step and `fill_targets`); this module only keeps
them. Nothing here commits: the rules in `core/optouts.py` do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.optouts import OptOutEntry
from db.dal import SqlDal
from db.engine import affected_rows


def _entry(row: Any) -> OptOutEntry:
    return OptOutEntry(
        tg_user_id=int(row.tg_user_id),
        username=row.username,
        reason=row.reason,
        created_at=row.created_at,
    )


class OptOutsSql:
    session: AsyncSession

    # --- the installation's list --------------------------------------------------------------
    async def set_global_opt_out(self, tg_user_id: int, source: str) -> bool:
        """True when the person was not on the list yet."""
        result = await self.session.execute(
            text("""INSERT INTO global_opt_outs (tg_user_id, source) VALUES (:u, :s)
                    ON CONFLICT (tg_user_id) DO NOTHING"""),
            {"u": tg_user_id, "s": source},
        )
        return affected_rows(result) > 0

    async def drop_global_opt_out(self, tg_user_id: int) -> bool:
        result = await self.session.execute(
            text("DELETE FROM global_opt_outs WHERE tg_user_id = :u"), {"u": tg_user_id}
        )
        return affected_rows(result) > 0

    async def global_opt_out_since(self, tg_user_id: int) -> datetime | None:
        found: datetime | None = await self.session.scalar(
            text("SELECT created_at FROM global_opt_outs WHERE tg_user_id = :u"), {"u": tg_user_id}
        )
        return found

    # --- a workspace's list -------------------------------------------------------------------
    async def workspace_opt_outs(
        self, workspace_id: int, *, after: int, limit: int
    ) -> list[OptOutEntry]:
        """By Telegram id (keyset pages), each with a username the workspace's audiences know."""
        rows = (
            await self.session.execute(
                text("""SELECT o.tg_user_id, o.reason, o.created_at,
                           (SELECT m.username FROM audience_members m JOIN audiences a ON a.id = m.audience_id
                             WHERE a.workspace_id = o.workspace_id AND m.tg_user_id = o.tg_user_id
                               AND m.username IS NOT NULL LIMIT 1) AS username
                      FROM opt_outs o
                     WHERE o.workspace_id = :ws AND o.tg_user_id > :after
                     ORDER BY o.tg_user_id LIMIT :limit"""),
                {"ws": workspace_id, "after": after, "limit": limit},
            )
        ).all()
        return [_entry(r) for r in rows]

    async def count_workspace_opt_outs(self, workspace_id: int) -> int:
        return int(
            await self.session.scalar(
                text("SELECT count(*) FROM opt_outs WHERE workspace_id = :ws"), {"ws": workspace_id}
            )
            or 0
        )

    async def add_workspace_opt_outs(
        self, workspace_id: int, tg_user_ids: list[int], reason: str
    ) -> int:
        """How many were not on the list yet."""
        result = await self.session.execute(
            text("""INSERT INTO opt_outs (workspace_id, tg_user_id, reason)
                    SELECT :ws, u, :r FROM unnest(CAST(:ids AS bigint[])) AS u
                    ON CONFLICT DO NOTHING"""),
            {"ws": workspace_id, "ids": tg_user_ids, "r": reason},
        )
        return affected_rows(result)

    async def drop_workspace_opt_out(self, workspace_id: int, tg_user_id: int) -> bool:
        result = await self.session.execute(
            text("DELETE FROM opt_outs WHERE workspace_id = :ws AND tg_user_id = :u"),
            {"ws": workspace_id, "u": tg_user_id},
        )
        return affected_rows(result) > 0

    async def known_usernames(self, workspace_id: int, names: list[str]) -> dict[str, int]:
        """Lower-case usernames → Telegram ids, as the workspace's audiences saw them."""
        rows = (
            await self.session.execute(
                text("""SELECT DISTINCT ON (lower(m.username)) lower(m.username) AS name, m.tg_user_id
                      FROM audience_members m JOIN audiences a ON a.id = m.audience_id
                     WHERE a.workspace_id = :ws AND lower(m.username) = ANY(CAST(:names AS text[]))
                     ORDER BY lower(m.username), m.tg_user_id"""),
                {"ws": workspace_id, "names": names},
            )
        ).all()
        return {str(r.name): int(r.tg_user_id) for r in rows}


class OptOutDal(SqlDal, OptOutsSql):
    """The bot's and the API's data access with the opt-out lists (same session)."""
