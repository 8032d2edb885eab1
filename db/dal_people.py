"""SQL for one person across a workspace's campaigns (part of `SqlDal`; rules: `core/people.py`).

Every statement is a walk of existing keys, never a scan of people: the member by the
audience's primary key, the opt-outs by theirs, and the campaigns through
`ix_campaigns_workspace_id`, each joined on the primary or unique key of its
`campaign_targets` (campaign, person), `invite_ledger` (workspace, chat, person) and
`retention_checks` (campaign, person) rows. A page costs one probe per campaign of the
workspace walked, bounded by the workspace's campaigns, not by audiences or targets.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.dto import MemberDTO
from core.people import CampaignPlace, OptOutState
from db.dal_audiences import member_dto
from db.models import AudienceMember


class PeopleSql:
    session: AsyncSession

    async def audience_member(self, audience_id: int, tg_user_id: int) -> MemberDTO | None:
        if not -(2**63) <= tg_user_id < 2**63:
            return None
        row = await self.session.scalar(
            select(AudienceMember).where(
                AudienceMember.audience_id == audience_id, AudienceMember.tg_user_id == tg_user_id
            )
        )
        return member_dto(row) if row is not None else None

    async def person_opt_out(self, workspace_id: int, tg_user_id: int) -> OptOutState:
        row = (
            await self.session.execute(
                text("""SELECT o.reason, o.created_at,
                               EXISTS (SELECT 1 FROM global_opt_outs g WHERE g.tg_user_id = :person) AS everywhere
                          FROM (SELECT 1) AS one
                          LEFT JOIN opt_outs o ON o.workspace_id = :ws AND o.tg_user_id = :person"""),
                {"ws": workspace_id, "person": tg_user_id},
            )
        ).one()
        return OptOutState(
            workspace=row.created_at is not None,
            reason=row.reason,
            since=row.created_at,
            everywhere=bool(row.everywhere),
        )

    async def person_campaigns(
        self, workspace_id: int, tg_user_id: int, *, before_id: int | None, limit: int
    ) -> list[CampaignPlace]:
        rows = (
            await self.session.execute(
                text("""SELECT c.id, c.name, c.status::text AS status, c.target_chat_id, c.target_title,
                               c.target_ref, c.invite_link, t.state::text AS state, t.reason, t.updated_at,
                               l.outcome AS ledger_outcome, r.added_at, r.stayed_day, r.stayed_week, r.left_at
                          FROM campaigns c
                          JOIN campaign_targets t ON t.campaign_id = c.id AND t.tg_user_id = :person
                          LEFT JOIN invite_ledger l ON l.workspace_id = c.workspace_id
                                                   AND l.chat_id = c.target_chat_id AND l.tg_user_id = :person
                          LEFT JOIN retention_checks r ON r.campaign_id = c.id AND r.tg_user_id = :person
                         WHERE c.workspace_id = :ws AND c.id < :before
                         ORDER BY c.id DESC
                         LIMIT :limit"""),
                {
                    "ws": workspace_id,
                    "person": tg_user_id,
                    "before": before_id or 2**62,
                    "limit": limit,
                },
            )
        ).all()
        return [
            CampaignPlace(
                campaign_id=r.id,
                campaign_name=r.name,
                campaign_status=r.status,
                chat_id=r.target_chat_id,
                chat_title=r.target_title,
                chat_ref=r.target_ref,
                state=r.state,
                reason=r.reason,
                at=r.updated_at,
                ledger_outcome=r.ledger_outcome,
                invite_link=r.invite_link,
                added_at=r.added_at,
                stayed_day=r.stayed_day,
                stayed_week=r.stayed_week,
                left_at=r.left_at,
            )
            for r in rows
        ]
