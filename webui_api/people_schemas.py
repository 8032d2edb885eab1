"""Bodies of the audience creation from CSV and of one person's status across campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from webui_api.schemas import AudienceOut, ImportReportOut, MemberOut


class AudienceCreatedOut(BaseModel):
    audience: AudienceOut
    report: ImportReportOut = Field(
        description="What the file gave: lines, people taken, lines refused and why"
    )


class PersonOptOutOut(BaseModel):
    workspace: bool = Field(description="On this workspace's own opt-out list")
    reason: str | None = Field(description="Why it is on that list: owner, import, erased")
    since: datetime | None
    everywhere: bool = Field(
        description="The person told the installation's bot never to be invited (/optout)"
    )


class RetentionOut(BaseModel):
    added_at: datetime | None = Field(description="When the invite added them")
    stayed_day: bool | None = Field(
        description="Still in the chat a day later (null: not checked yet)"
    )
    stayed_week: bool | None = Field(
        description="Still in the chat a week later (null: not checked yet)"
    )
    left_at: datetime | None = Field(description="When a check found them gone")
    left: bool | None = Field(
        description="true: gone from the chat; false: seen staying; null: not known"
    )


class PersonCampaignOut(BaseModel):
    campaign_id: int
    campaign_name: str
    campaign_status: str
    chat_id: int | None
    chat_title: str | None
    chat_ref: str = Field(description="The target as it was given (username, link or id)")
    state: Literal[
        "pending", "sending", "unconfirmed", "invited", "already_member", "failed", "skipped"
    ]
    reason: str | None = Field(description="Why they were not added (a code)")
    reason_text: str | None = Field(
        description="The reason as a sentence, in the caller's language"
    )
    at: datetime = Field(description="When the person's state in this campaign last changed")
    follow_up: bool = Field(
        description="On the campaign's follow-up list: send them the chat's invite link"
    )
    invite_link: str | None = Field(description="The chat's tracked invite link, for a follow-up")
    retention: RetentionOut | None = Field(description="Only for someone the campaign added")


class PersonStatusOut(BaseModel):
    member: MemberOut
    opt_out: PersonOptOutOut
    campaigns: list[PersonCampaignOut] = Field(description="Newest campaign first")
    next_cursor: str | None
