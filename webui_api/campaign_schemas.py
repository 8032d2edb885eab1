"""Request and response bodies of `/api/v1/campaigns`; the OpenAPI document is generated from these.

Codes (statuses, exclusions, warnings, reasons) are stable and meant for programs; each list
of codes comes with a `*_texts` map giving the sentence for every code in the caller's
language (Accept-Language), the same sentences the bot uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from webui_api.schemas import Body, Progress

CampaignStatusName = Literal[
    "draft", "approval", "scheduled", "running", "paused", "waiting", "done", "cancelled"
]
ChatKind = Literal["group", "megagroup", "channel"]


class CampaignLimitsIn(Body):
    """The campaign's own limits, each optional (the installation's where absent). A campaign
    may only be stricter: a count above the installation's, or a pause below it, is a 400."""

    daily_per_account: int | None = Field(
        default=None, ge=1, description="Invites per account per UTC day, all chats"
    )
    daily_per_chat: int | None = Field(
        default=None, ge=1, description="Invites per account per UTC day into this chat"
    )
    daily_per_target: int | None = Field(
        default=None,
        ge=1,
        description="Invites into this chat per UTC day by all accounts together",
    )
    pause_min_s: int | None = Field(
        default=None, ge=1, description="Shortest pause between two invites of an account"
    )
    pause_max_s: int | None = Field(
        default=None, ge=1, description="Longest pause between two invites of an account"
    )


class CampaignCreate(Body):
    name: str = Field(description="1 to 128 characters")
    audience_id: int = Field(gt=0, description="An audience of the workspace")
    target: str = Field(
        description="The group or channel: @username, t.me link, invite link (t.me/+…, "
        "t.me/joinchat/…; an account must be in the chat), -100… id, or a chat's "
        "id; `target` of GET /api/v1/chats"
    )
    start_at: str | None = Field(
        default=None,
        description="UTC, ISO 8601 (2026-12-01T09:00:00Z); must be in the future. null: at the start",
    )
    active_hours: str | None = Field(
        default=None,
        description="Daily hours in UTC like 9-21 (22-6 wraps past midnight). null: any time",
    )
    limits: CampaignLimitsIn | None = Field(
        default=None, description="The campaign's own limits (optional)"
    )


class Counts(BaseModel):
    pending: int = Field(description="Not tried yet, or an invite is on its way")
    unconfirmed: int = Field(
        description="Telegram accepted the invite without showing the person added; a membership check decides"
    )
    invited: int = Field(
        description="Verified added: shown by Telegram's answer or by a membership check"
    )
    already_member: int
    failed: int
    skipped: int


class TargetOut(BaseModel):
    ref: str = Field(description="As given, normalized: a public username or a basic group's id")
    chat_id: int | None = Field(description="Known once a pre-flight found the chat")
    kind: ChatKind | None
    title: str | None


class LimitsOut(BaseModel):
    daily_per_account: int = Field(description="Invites per account per UTC day, all chats")
    daily_per_chat: int = Field(description="Invites per account per UTC day into this chat")
    lifetime_per_chat: int = Field(description="Invites per account into this chat, ever")
    daily_per_target: int | None = Field(
        default=None, description="Invites into this chat per UTC day by all accounts together"
    )
    pause_min_s: int | None = Field(
        default=None, description="Shortest pause between two invites of an account"
    )
    pause_max_s: int | None = Field(
        default=None, description="Longest pause between two invites of an account"
    )


class PreflightOut(BaseModel):
    kind: ChatKind | None = Field(description="null: none of the accounts could see the chat")
    title: str | None
    ready: bool = Field(description="The chat was found and at least one account may add people")
    eligible: list[int] = Field(description="Ids of the accounts that will invite")
    excluded: dict[str, str] = Field(
        description="Account id → why it cannot invite (exclusion code)"
    )
    exclusion_texts: dict[str, str] = Field(description="Exclusion code → sentence")
    unchecked: list[int] = Field(
        description="Accounts busy during the check; they check their rights when they work"
    )
    accounts: dict[str, str] = Field(description="Account id → label")
    to_invite: int
    already_members: int = Field(
        description="Audience people already in the chat (never sent an invite)"
    )
    attempted_before: int = Field(description="Audience people this chat was already tried with")
    opted_out: int
    days_to_finish: int | None
    warnings: list[str]
    warning_texts: dict[str, str] = Field(description="Warning code → sentence")
    reach: dict[str, int] = Field(
        default_factory=dict,
        description="Account id → people left to invite it can name (a username, or its own access hash)",
    )
    can_join: list[int] = Field(
        default_factory=list,
        description="Accounts not in the chat that could join it (POST …/join; owner only)",
    )
    migrated_from: int | None = Field(
        default=None,
        description="The basic group the target was before it became this supergroup",
    )
    unreachable: int = Field(
        default=0,
        description="People left to invite whom no working account can name (no username, "
        "seen only by other accounts or imported as a bare id)",
    )
    invite_link: str | None
    members_listed: int
    members_complete: bool
    limits: LimitsOut
    checked_at: datetime


class CampaignOut(BaseModel):
    id: int
    name: str
    status: CampaignStatusName
    waiting_reason: Literal["quota", "hours"] | None = Field(
        description="Why a waiting campaign waits"
    )
    paused_reason: (
        Literal["chat_full", "brake_privacy", "brake_left", "brake_peer_flood"] | None
    ) = Field(
        default=None,
        description="Why the campaign paused itself (null: paused by a person, or not paused)",
    )
    audience_id: int | None = Field(description="null once the audience was deleted")
    target: TargetOut
    invite_link: str | None = Field(description="For the people an invite could not add")
    start_at: datetime | None
    active_hours: str | None = Field(description="UTC, like 9-21; null: any time")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    preflight: PreflightOut | None = Field(description="The last pre-flight; null before the first")
    start_problem: str | None = Field(
        default=None,
        description=(
            "Why this draft cannot start now (preflight_missing, target_not_found, "
            "no_eligible_accounts, nobody_to_invite); null when it can or is not a draft"
        ),
    )
    start_problem_text: str | None = Field(
        default=None, description="The sentence for `start_problem`, in the caller's language"
    )
    counts: Counts
    progress: Progress = Field(
        description="People with a final result, of all the campaign's people"
    )


class CampaignItem(BaseModel):
    id: int
    name: str
    status: CampaignStatusName
    waiting_reason: Literal["quota", "hours"] | None
    paused_reason: (
        Literal["chat_full", "brake_privacy", "brake_left", "brake_peer_flood"] | None
    ) = None
    target: TargetOut
    counts: Counts
    progress: Progress
    created_at: datetime


class CampaignList(BaseModel):
    items: list[CampaignItem]
    next_cursor: str | None


class AccountUsageOut(BaseModel):
    id: int
    label: str
    invited: int = Field(description="Added, or found already in the chat, by this account")
    failed: int
    attempts: int = Field(description="Attempts in this campaign that spent quota")
    today: int = Field(description="Quota spent today (UTC), all chats")
    today_in_chat: int = Field(description="Quota spent today (UTC) into this campaign's chat")
    limits: LimitsOut


class FollowUpItem(BaseModel):
    user_id: int | None
    username: str | None
    first_name: str | None
    reason: str
    reason_text: str | None


class FollowUpPage(BaseModel):
    invite_link: str | None = Field(description="Share it with these people")
    items: list[FollowUpItem]
    next_cursor: str | None


class CampaignReportOut(BaseModel):
    counts: Counts
    reasons: dict[str, int] = Field(description="Failure or skip reason code → people")
    reason_texts: dict[str, str] = Field(description="Reason code → sentence")
    accounts: list[AccountUsageOut]
    follow_up: FollowUpPage = Field(
        description="People whose privacy refused the invite (paged by ?cursor=)"
    )


class EventAccount(BaseModel):
    id: int
    label: str | None = Field(description="null once the account was unlinked")


class EventUser(BaseModel):
    id: int
    username: str | None


class EventOut(BaseModel):
    id: int
    at: datetime
    account: EventAccount | None = Field(description="null: no account made this attempt")
    user: EventUser
    outcome: Literal["invited", "already_member", "unconfirmed", "failed", "skipped", "retry"]
    reason: str | None
    reason_text: str | None
    error: str | None = Field(
        default=None, description="Telegram's own error name, verbatim (null: none)"
    )


class EventList(BaseModel):
    items: list[EventOut]
    next_cursor: str | None
