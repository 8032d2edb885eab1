"""Drafts as people change and throw them away (issue 16): edit a draft's name, audience,
target, start, hours and limits; delete drafts, one or many at once.

An edit goes through the very checks of `CampaignService.create` (`campaign_name`,
`parse_target`, `check_campaign_limits` under the admins' maximums, the audience in the
workspace) before anything is written, so a refused edit changes nothing. A new target or
audience makes the stored pre-flight stale: it is cleared (a start then asks for one) and
the caller runs it again.

Deleting: only drafts — a campaign that was ever started keeps its results — and, as with
the other destructive acts of a workspace, the owner may delete any draft while a manager
deletes the drafts they created. Many at once is all or nothing: one id that is not the
caller's to delete refuses the whole request and nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from core.campaign_service import CampaignService, campaign_name, parse_target
from core.campaigns import CampaignStatus
from core.dto import CampaignDTO, WorkspaceRole
from core.errors import Forbidden, InvalidInput, NotFound
from core.installation import effective_limits
from core.interfaces import Dal
from core.limits import check_campaign_limits
from core.users import require_workspace

MAX_BULK = 100  # drafts one request deletes at most


class DraftStore(Protocol):
    async def update_draft(self, campaign_id: int, values: Mapping[str, Any]) -> bool:
        """Write these columns while the campaign is still a draft; False: it no longer is."""

    async def clear_targets(self, campaign_id: int) -> None:
        """Forget the people a pre-flight copied in (the audience or the chat changed)."""

    async def drafts_owned(
        self, workspace_id: int, ids: Sequence[int]
    ) -> list[tuple[int, str, int | None]]:
        """(id, status, creator) of these campaigns of the workspace, locked until the commit."""

    async def delete_campaigns(self, ids: Sequence[int]) -> int: ...


@dataclass(frozen=True, slots=True)
class DraftEdit:
    """What a caller asked to change; `None` for a field not named. For `start_at`,
    `active_hours` and `limits` the pair (asked, value) tells "clear it" from "keep it"."""

    name: str | None = None
    audience_id: int | None = None
    target: str | None = None
    start_at: tuple[bool, datetime | None] = (False, None)
    active_hours: tuple[bool, tuple[int, int] | None] = (False, None)
    limits: tuple[bool, Mapping[str, Any] | None] = (False, None)


def _not_draft(campaign: CampaignDTO) -> InvalidInput:
    return InvalidInput("status", field="status", problem="not_draft", status=str(campaign.status))


async def check_edit(
    service: CampaignService,
    dal: Dal,
    user_id: int,
    workspace_id: int,
    campaign_id: int,
    edit: DraftEdit,
) -> tuple[CampaignDTO, dict[str, Any]]:
    """The draft and the columns the edit writes, every check of a creation passed; nothing
    is written yet (the target's chat is checked by the caller in between, with Telegram)."""
    campaign = await service.get(dal, user_id, workspace_id, campaign_id)
    if CampaignStatus(campaign.status) is not CampaignStatus.DRAFT:
        raise _not_draft(campaign)
    values: dict[str, Any] = {}
    if edit.name is not None:
        values["name"] = campaign_name(edit.name)
    if edit.target is not None:
        ref = parse_target(edit.target)
        if ref != campaign.target_ref:
            values["target_ref"] = ref
    asked, limits = edit.limits
    if asked:
        own = check_campaign_limits(limits or {}, await effective_limits(dal, service.limits))
        values["limits"] = own
    if edit.audience_id is not None and edit.audience_id != campaign.audience_id:
        if await dal.get_audience(workspace_id, edit.audience_id) is None:
            raise InvalidInput("audience_id", field="audience_id", problem="audience_unknown")
        values["audience_id"] = edit.audience_id
    asked, start_at = edit.start_at
    if asked:
        values["start_at"] = start_at
    asked, hours = edit.active_hours
    if asked:
        values["active_from_hour"], values["active_to_hour"] = hours or (None, None)
    return campaign, values


def needs_preflight(values: Mapping[str, Any]) -> bool:
    """Whether the edit makes the stored pre-flight stale (who may invite where, whom)."""
    return bool({"target_ref", "audience_id", "limits"} & values.keys())


async def apply_edit(
    dal: Dal, store: DraftStore, user_id: int, campaign: CampaignDTO, values: dict[str, Any]
) -> None:
    """Write a checked edit (the caller commits). The draft must still be a draft."""
    if not values:
        return
    written = dict(values)
    if "target_ref" in values:  # the chat as the pre-flight resolved it belongs to the old target
        written |= {
            "target_chat_id": None,
            "target_kind": None,
            "target_title": None,
            "invite_link": None,
        }
    if needs_preflight(values):
        written["preflight"] = {}
    if not await store.update_draft(campaign.id, written):
        raise _not_draft(campaign)
    if "target_ref" in values or "audience_id" in values:
        await store.clear_targets(campaign.id)
    await dal.audit(
        "campaign.edit",
        actor_user_id=user_id,
        workspace_id=campaign.workspace_id,
        details={"campaign_id": campaign.id, "fields": ", ".join(sorted(values))},
    )


async def delete_drafts(
    dal: Dal, store: DraftStore, user_id: int, workspace_id: int, ids: Sequence[int]
) -> list[int]:
    """Delete drafts, all or none (the caller commits): another workspace's or an unknown id
    is `NotFound`, a campaign that is not a draft `InvalidInput`, a manager's request for
    someone else's draft `Forbidden`."""
    role = await require_workspace(dal, user_id, workspace_id)
    wanted = list(dict.fromkeys(ids))
    if not 1 <= len(wanted) <= MAX_BULK:
        raise InvalidInput("ids", field="ids", problem="integer_range", low=1, high=MAX_BULK)
    found = {
        i: (status, creator)
        for i, status, creator in await store.drafts_owned(workspace_id, wanted)
    }
    for campaign_id in wanted:
        if campaign_id not in found:
            raise NotFound("campaign", campaign_id=campaign_id)
        status, creator = found[campaign_id]
        if status != CampaignStatus.DRAFT.value:
            raise InvalidInput("ids", field="ids", problem="not_draft", status=status)
        if role is not WorkspaceRole.OWNER and creator != user_id:
            raise Forbidden("campaign_delete")
    await store.delete_campaigns(wanted)
    await dal.audit(
        "campaign.delete",
        actor_user_id=user_id,
        workspace_id=workspace_id,
        # The ids for programs; the same as one text for the audit page's sentence.
        details={"campaign_ids": wanted, "campaigns": ", ".join(f"#{i}" for i in wanted)},
    )
    return wanted
