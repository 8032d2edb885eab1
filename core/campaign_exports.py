"""A campaign's results as CSV files (issue 16): every attempt, and the follow-up list.

Both are streamed page by page in the journal's order (`campaign_events`, `follow_ups`:
keyset pages), so a campaign of a million attempts costs one page of memory. Codes stay in
their own columns for programs, each beside its sentence in the caller's language. Access is
checked before the first byte (`CampaignService.get`): another workspace's campaign is a 404,
never an empty file. Cells are written by `core.csvout` (safe to open in a spreadsheet).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from core import csvout
from core.campaign_service import CampaignService
from core.dto import CampaignDTO
from core.i18n import has_text, t
from core.interfaces import Dal

PAGE = 1000
ATTEMPT_COLUMNS = (
    "time_utc",
    "user_id",
    "username",
    "account_id",
    "account",
    "outcome",
    "outcome_text",
    "reason",
    "reason_text",
    "error",
)
FOLLOW_UP_COLUMNS = ("user_id", "username", "first_name", "reason", "reason_text", "invite_link")


def _sentence(lang: str, key: str) -> str:
    return t(lang, key) if has_text(key) else ""


async def attempts_csv(
    service: CampaignService, dal: Dal, user_id: int, workspace_id: int, campaign_id: int, lang: str
) -> tuple[CampaignDTO, AsyncIterator[bytes]]:
    """The campaign (access checked) and its attempts as CSV, oldest first."""
    campaign = await service.get(dal, user_id, workspace_id, campaign_id)

    async def pages() -> AsyncIterator[list[list[object]]]:
        after = 0
        while True:
            events = await dal.campaign_events(
                campaign.workspace_id, campaign.id, after_id=after, limit=PAGE
            )
            if not events:
                return
            yield [
                [
                    e.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    e.tg_user_id,
                    e.username,
                    e.account_id,
                    e.account_label,
                    e.outcome,
                    _sentence(lang, f"outcome.{e.outcome}"),
                    e.reason,
                    _sentence(lang, f"reason.{e.reason}") if e.reason else "",
                    e.error,
                ]
                for e in events
            ]
            after = events[-1].id

    return campaign, csvout.stream(ATTEMPT_COLUMNS, pages())


async def follow_up_csv(
    service: CampaignService, dal: Dal, user_id: int, workspace_id: int, campaign_id: int, lang: str
) -> tuple[CampaignDTO, AsyncIterator[bytes]]:
    """The campaign (access checked) and the people to send the invite link to, as CSV."""
    campaign = await service.get(dal, user_id, workspace_id, campaign_id)

    async def pages() -> AsyncIterator[list[list[object]]]:
        after = 0
        while True:
            rows = await dal.follow_ups(campaign.id, after_id=after, limit=PAGE)
            if not rows:
                return
            yield [
                [
                    f.tg_user_id,
                    f.username,
                    f.first_name,
                    f.reason,
                    _sentence(lang, f"reason.{f.reason}"),
                    campaign.invite_link,
                ]
                for _, f in rows
            ]
            after = rows[-1][0]

    return campaign, csvout.stream(FOLLOW_UP_COLUMNS, pages())
