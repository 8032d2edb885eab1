"""One person of an audience, across the workspace's campaigns: where they were invited,
how it ended, whether they opted out, and whether they stayed (DESIGN §7).

The panel opens a person from an audience's member list; the person is reached through the
audience (a member of it, in the caller's workspace), and every campaign row is the
workspace's own, so nothing of another workspace can be read this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.audiences import AudienceService
from core.campaigns import TargetState
from core.dto import MemberDTO
from core.errors import NotFound
from core.interfaces import Dal
from core.outcomes import FOLLOW_UP_REASONS
from core.pagination import Page, read_page


@dataclass(frozen=True, slots=True)
class OptOutState:
    """The workspace's own list (with its reason and date) and the installation's /optout."""

    workspace: bool
    reason: str | None
    since: datetime | None
    everywhere: bool


@dataclass(frozen=True, slots=True)
class CampaignPlace:
    """The person in one campaign: its target chat, the person's state there and since when,
    the ledger's word for the chat (`left` after a retention check), and the checks made a
    day and a week after they were added."""

    campaign_id: int
    campaign_name: str
    campaign_status: str
    chat_id: int | None
    chat_title: str | None
    chat_ref: str
    state: str
    reason: str | None
    at: datetime
    ledger_outcome: str | None
    invite_link: str | None
    added_at: datetime | None = None
    stayed_day: bool | None = None
    stayed_week: bool | None = None
    left_at: datetime | None = None

    @property
    def follow_up(self) -> bool:
        """On the campaign's follow-up list: their privacy refused the invite, so the owner
        sends them the chat's invite link by hand (the list `follow_ups` reads)."""
        return self.state == TargetState.FAILED.value and self.reason in {
            r.value for r in FOLLOW_UP_REASONS
        }

    @property
    def left(self) -> bool | None:
        """Gone from the chat after being added (True), seen staying (False), or not known."""
        if self.ledger_outcome == "left" or self.left_at is not None:
            return True
        if self.stayed_week or self.stayed_day:
            return False
        return None


@dataclass(frozen=True, slots=True)
class PersonStatus:
    member: MemberDTO
    opt_out: OptOutState
    campaigns: Page[CampaignPlace]


class PersonStore(Protocol):
    async def audience_member(self, audience_id: int, tg_user_id: int) -> MemberDTO | None: ...

    async def person_opt_out(self, workspace_id: int, tg_user_id: int) -> OptOutState: ...

    async def person_campaigns(
        self, workspace_id: int, tg_user_id: int, *, before_id: int | None, limit: int
    ) -> list[CampaignPlace]:
        """The workspace's campaigns that have this person as a target, newest first."""


class PeopleDal(Dal, PersonStore, Protocol):
    pass


async def person_status(
    dal: PeopleDal,
    user_id: int,
    workspace_id: int,
    audience_id: int,
    tg_user_id: int,
    *,
    cursor: int | None = None,
    limit: int = 20,
) -> PersonStatus:
    """A member of one of the workspace's audiences with a page of their campaigns (newest
    first). `NotFound` for a foreign workspace or audience, or someone not in the audience."""
    audience = await AudienceService().audience(dal, user_id, workspace_id, audience_id)
    member = await dal.audience_member(audience.id, tg_user_id)
    if member is None:
        raise NotFound("member", audience_id=audience_id, tg_user_id=tg_user_id)
    opt_out = await dal.person_opt_out(workspace_id, tg_user_id)
    page = await read_page(
        lambda n: dal.person_campaigns(workspace_id, tg_user_id, before_id=cursor, limit=n),
        limit,
        lambda place: place.campaign_id,
    )
    return PersonStatus(member, opt_out, page)
