"""Request and response bodies of `/api/v1/admin/...` and `/api/v1/audit`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.limits import LIMIT_CEILING
from webui_api.schemas import STATUS_REASON_DOC, AccountStatusName, Body, UserFields


class WorkerOut(BaseModel):
    worker: str = Field(description="host:pid")
    started_at: datetime
    beat_at: datetime


class InstallationStatsOut(BaseModel):
    users: int
    admins: int
    blocked: int
    workspaces: int
    accounts: dict[str, int] = Field(description="Linked accounts by status")
    invites_today: dict[str, int] = Field(description="Invite attempts since 00:00 UTC by outcome")
    parse_tasks: dict[str, int] = Field(description="Collection tasks queued or running")
    campaigns: dict[str, int] = Field(description="Campaigns scheduled, running or waiting")
    workers: list[WorkerOut] = Field(description="Worker processes with a recent heartbeat")


class AdminUserOut(UserFields):
    blocked: bool
    configured_admin: bool = Field(
        description="Named in ADMIN_TELEGRAM_IDS: stays an admin, cannot be blocked"
    )


class AdminUserList(BaseModel):
    items: list[AdminUserOut]
    next_cursor: str | None


def _limit(description: str, low: int = 1) -> Any:
    return Field(default=None, ge=low, le=LIMIT_CEILING, description=description)


class MaxLimitsIn(Body):
    """Only the maximums to change; the others keep their values."""

    daily_per_account: int | None = _limit("Invites per account per UTC day, at most")
    daily_per_chat: int | None = _limit("Invites per account into one chat per UTC day, at most")
    lifetime_per_chat: int | None = _limit("Invites per account into one chat ever, at most")
    pause_min_s: int | None = _limit("Shortest pause between two invites of an account, at least")
    pause_max_s: int | None = _limit("Longest pause between two invites of an account, at least")
    flood_buffer_s: int | None = _limit("Added to every flood wait, at least", low=0)
    peer_flood_park_s: int | None = _limit("Rest after PEER_FLOOD, at least")


class LimitValues(BaseModel):
    daily_per_account: int
    daily_per_chat: int
    lifetime_per_chat: int
    pause_min_s: int
    pause_max_s: int
    flood_buffer_s: int
    peer_flood_park_s: int


class MaxLimitsOut(BaseModel):
    configured: LimitValues = Field(
        description="From the settings (INVITE_*, FLOOD_BUFFER_S, PEER_FLOOD_PARK_S)"
    )
    maximum: LimitValues = Field(description="The installation's maximums (the settings until set)")
    effective: LimitValues = Field(
        description="What workers use: the settings capped by the maximums"
    )
    stored: bool = Field(description="Whether maximums were ever set")


class AdminAccountOut(BaseModel):
    id: int
    workspace_id: int
    username: str | None
    first_name: str
    phone: str | None = Field(description="Masked: +7******67")
    status: AccountStatusName
    status_reason: str | None = Field(description=STATUS_REASON_DOC)
    cooldown_until: datetime | None
    last_checked_at: datetime | None = Field(
        description="When the health check last looked at it (@SpamBot at most once a day); null: never"
    )
    created_at: datetime


class AdminAccountList(BaseModel):
    items: list[AdminAccountOut]
    next_cursor: str | None


class ActorOut(BaseModel):
    id: int
    username: str | None


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: ActorOut | None = Field(description="Who did it; null for the system")
    action: str
    workspace_id: int | None
    details: dict[str, Any]
    ip: str | None
    trace_id: str | None


class AuditList(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for older events")
