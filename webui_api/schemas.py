"""Request and response bodies of the API. The OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VerifyRequest(Body):
    username: str = Field(
        min_length=1, max_length=64, description="Telegram username, `@` optional"
    )
    code: str = Field(min_length=1, max_length=32, description="The code from the bot's /web_auth")


class RefreshRequest(Body):
    refresh_token: str | None = Field(
        default=None,
        min_length=20,
        max_length=128,
        description="Omit to use the HttpOnly refresh cookie",
    )


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class OkResponse(BaseModel):
    ok: bool = True


class WorkspaceOut(BaseModel):
    id: int
    name: str
    role: Literal["owner", "manager"]
    personal: bool


class UserFields(BaseModel):
    # A user as `/api/v1/me` and the admin pages show them (no docstring: the OpenAPI
    # schemas of the models built on it keep their own descriptions).
    id: int
    telegram_id: int
    username: str | None
    first_name: str
    last_name: str | None
    language: str
    role: Literal["user", "admin"]


class MeResponse(UserFields):
    workspaces: list[WorkspaceOut]


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadyResponse(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


class ErrorDetail(BaseModel):
    code: str
    message: str
    trace_id: str | None
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    error: ErrorDetail


AccountStatusName = Literal[
    "active", "cooldown", "parked", "restricted", "frozen", "unauthorized", "banned", "disabled"
]
"""`core.dto.AccountStatus` (DESIGN §5): restricted = Telegram's anti-spam limits (@SpamBot
says until when), frozen = frozen by Telegram (only an appeal lifts it)."""
STATUS_REASON_DOC = (
    "Why: Telegram's own error name (USER_BANNED_IN_CHANNEL, PEER_FLOOD, FLOOD_WAIT_X, "
    "FROZEN_METHOD_INVALID, ...), or the product's word (spambot_limited, frozen_until:<date> "
    "= Telegram deletes the frozen account then unless an appeal is accepted, by_user, ...)"
)


class AccountOut(BaseModel):
    id: int
    username: str | None
    first_name: str
    phone: str | None = Field(description="Masked: +7******67")
    status: AccountStatusName
    status_reason: str | None = Field(description=STATUS_REASON_DOC)
    cooldown_until: datetime | None = Field(
        description="cooldown/parked: rests until then; restricted: the end @SpamBot gave (null: none given)"
    )
    usage_today: int = Field(description="Invites sent by this account today (UTC day)")


class AccountList(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None


class UnlinkResponse(BaseModel):
    ok: bool = True
    logged_out: bool = Field(description="Telegram confirmed the session's log-out")


class FiltersIn(Body):
    skip_bots: bool = True
    skip_deleted: bool = True
    skip_scam: bool = True
    skip_admins: bool = True
    last_seen: list[Literal["online", "recently", "week", "month", "long_ago"]] = Field(
        default_factory=list, description="Keep only these last-seen buckets (empty: any)"
    )
    need_username: bool = False
    need_premium: bool = False
    need_photo: bool = False


class ParseTaskCreate(Body):
    source: str = Field(
        min_length=2,
        max_length=128,
        description="@username, t.me link, or a private chat's invite link (t.me/+…)",
    )
    account_id: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Invite links: the account that joins the chat (default: the first that can work)"
        ),
    )
    kind: Literal["members", "comments", "authors"] = "members"
    speed: Literal["safe", "medium", "fast"] = "medium"
    priority: Literal["high", "normal", "low"] = "normal"
    audience: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Audience to fill; default: named after the source",
    )
    posts: int = Field(default=100, ge=1, le=1000, description="comments: how many recent posts")
    days: int = Field(default=30, ge=1, le=365, description="authors: how many days back")
    filters: FiltersIn = Field(default_factory=FiltersIn)


class Progress(BaseModel):
    done: int
    total: int | None


class ParseTaskOut(BaseModel):
    id: int
    status: Literal["queued", "running", "paused", "done", "failed", "cancelled"]
    kind: str
    source: str
    source_title: str | None
    audience_id: int
    speed: str
    priority: Literal["high", "normal", "low"]
    progress: Progress
    collected: int
    new: int
    skipped: int
    found_by_search: int
    accounts_used: int
    error: str | None = Field(description="Why it failed, or why a queued one waits (a code)")
    note: str | None = Field(
        default=None, description="The same, as a sentence in the caller's language"
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ParseTaskList(BaseModel):
    items: list[ParseTaskOut]
    next_cursor: str | None


class AudienceOut(BaseModel):
    id: int
    name: str
    source: str | None
    size: int
    pending_usernames: int = Field(description="Imported by username only, resolved when used")
    created_at: datetime


class AudienceList(BaseModel):
    items: list[AudienceOut]
    next_cursor: str | None


class MemberOut(BaseModel):
    user_id: int
    username: str | None
    first_name: str
    last_name: str | None
    last_seen: str
    premium: bool
    photo: bool
    source: str | None


class MemberList(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class ImportLineError(BaseModel):
    line: int
    value: str
    problem: Literal["bad_username", "bad_user_id", "no_user_id_or_username"]


class ImportReportOut(BaseModel):
    audience_id: int
    lines: int
    accepted: int
    new_members: int
    new_usernames: int
    errors: list[ImportLineError]
    unreachable: int = Field(
        description="Ids without a username: not reachable by id alone until an account collects them from a chat"
    )


class CommunitySearchIn(Body):
    keywords: str = Field(
        min_length=3, max_length=64, description="Words to look for in titles and usernames"
    )


class CommunityOut(BaseModel):
    chat_id: int
    username: str | None
    title: str
    kind: Literal["group", "megagroup", "channel"] = Field(
        description="channel: a broadcast channel; only those with active comments are listed"
    )
    members: int
    recent_commenters: int = Field(
        description="Distinct people writing recently (messages or comments)"
    )
    score: float = Field(description="Higher is better: size first, then activity")


class CommunityList(BaseModel):
    items: list[CommunityOut]
