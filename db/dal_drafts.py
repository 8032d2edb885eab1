"""SQL for editing and deleting drafts (`core.campaign_drafts.DraftStore`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.campaigns import CampaignStatus
from db.engine import affected_rows
from db.models import Campaign, CampaignTarget

# The columns an edit may write; anything else is a bug of the caller.
_EDITABLE = frozenset(
    {
        "name",
        "audience_id",
        "target_ref",
        "target_chat_id",
        "target_kind",
        "target_title",
        "invite_link",
        "start_at",
        "active_from_hour",
        "active_to_hour",
        "limits",
        "preflight",
    }
)


class DraftsSql:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def update_draft(self, campaign_id: int, values: Mapping[str, Any]) -> bool:
        unknown = values.keys() - _EDITABLE
        assert not unknown, unknown
        # The status is re-checked by the UPDATE itself: a start between the check and this
        # statement leaves the started campaign as it was.
        result = await self.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.DRAFT)
            .values(**values)
        )
        return affected_rows(result) == 1

    async def clear_targets(self, campaign_id: int) -> None:
        await self.session.execute(
            delete(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id)
        )

    async def drafts_owned(
        self, workspace_id: int, ids: Sequence[int]
    ) -> list[tuple[int, str, int | None]]:
        rows = await self.session.execute(
            select(Campaign.id, Campaign.status, Campaign.created_by_user_id)
            .where(Campaign.workspace_id == workspace_id, Campaign.id.in_(list(ids)))
            .order_by(Campaign.id)
            .with_for_update()
        )
        return [(int(r[0]), CampaignStatus(r[1]).value, r[2]) for r in rows]

    async def delete_campaigns(self, ids: Sequence[int]) -> int:
        # Targets and counters go with the campaign (ON DELETE CASCADE); a draft has no
        # attempts, and the journal would keep them anyway (campaign_id SET NULL).
        result = await self.session.execute(delete(Campaign).where(Campaign.id.in_(list(ids))))
        return affected_rows(result)
