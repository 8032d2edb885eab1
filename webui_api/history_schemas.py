"""Bodies of the accounts' history, an account's page, a campaign's plan and draft edits.

Codes (outcomes, reasons, statuses) are for programs; each comes with its sentence in the
caller's language (Accept-Language), the same catalog the bot uses.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from webui_api.campaign_schemas import CampaignLimitsIn, LimitsOut
from webui_api.schemas import AccountOut, Body


class HistoryAccount(BaseModel):
    id: int
    label: str = Field(description="@username, else the first name")


class DayCountOut(BaseModel):
    day: date = Field(description="The UTC day")
    account_id: int
    outcome: str = Field(
        description="invited, already_member, failed, skipped, unconfirmed, or retry "
        "(tried again later: a flood wait, PEER_FLOOD, another account's turn)"
    )
    reason: str | None = Field(
        description="Why, for a refusal: flood, peer_flood, privacy_restricted, …"
    )
    counted: bool = Field(description="Whether these attempts spent the account's daily quota")
    n: int


class StatusChangeOut(BaseModel):
    account_id: int
    at: datetime
    status: str = Field(description="The status the account took: active, cooldown, parked, …")
    status_text: str
    reason: str | None = Field(
        description="Telegram's error name (FLOOD_WAIT_60, PEER_FLOOD, …) or ours"
    )
    reason_text: str | None
    until: datetime | None = Field(description="cooldown/parked: the end of the rest")


class HistoryOut(BaseModel):
    since: date = Field(description="The first UTC day shown")
    days: int
    accounts: list[HistoryAccount]
    invites: list[DayCountOut] = Field(
        description="Attempts per UTC day, account, outcome and reason"
    )
    changes: list[StatusChangeOut] = Field(description="Status changes, oldest first")
    outcome_texts: dict[str, str]
    reason_texts: dict[str, str]


class AccountTotalsOut(BaseModel):
    attempts: int = Field(description="Attempts that spent the quota, ever")
    invited: int = Field(description="People it added, ever")


class AccountPageOut(BaseModel):
    account: AccountOut
    label: str
    status_text: str = Field(description="The status in words")
    reason_text: str | None = Field(description="Why, in words, when known")
    rest_until: datetime | None = Field(description="When its rest (flood wait, a day's park) ends")
    last_checked_at: datetime | None = Field(description="The health check's last look")
    limits: LimitsOut = Field(description="The limits new campaigns work under")
    totals: AccountTotalsOut
    history: HistoryOut


class CampaignPlanOut(BaseModel):
    next_attempt_at: datetime | None = Field(
        description="The earliest time the engine may invite again for this campaign: an "
        "account free by its pause, its limits and the active hours (null: not running, or "
        "nobody left, or no account may invite)"
    )
    to_invite: int = Field(description="People still to invite")
    accounts: int = Field(description="Accounts that may still invite for it")
    days_to_finish: int | None = Field(description="At the limits' pace (null: cannot finish)")
    finish_by: date | None = Field(description="The UTC day it should be done")
    limits: LimitsOut = Field(description="The limits it works under")
    own_limits: dict[str, int] = Field(description="The limits it set for itself")


class CampaignEdit(Body):
    """A draft's changes, each optional; the same checks as a creation. `start_at`,
    `active_hours` and `limits` given as null clear them."""

    name: str | None = Field(default=None, description="1 to 128 characters")
    audience_id: int | None = Field(default=None, gt=0, description="An audience of the workspace")
    target: str | None = Field(default=None, description="As for a creation")
    start_at: str | None = Field(
        default=None, description="UTC, ISO 8601, in the future; null: at the start"
    )
    active_hours: str | None = Field(default=None, description="Like 9-21; null: any time")
    limits: CampaignLimitsIn | None = Field(default=None, description="null: the installation's")


class DraftsDelete(Body):
    ids: list[int] = Field(min_length=1, max_length=100, description="Drafts of the workspace")


class DraftsDeleted(BaseModel):
    deleted: list[int]
