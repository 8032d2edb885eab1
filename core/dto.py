"""Plain domain objects handed between storage and the rules. No ORM, no framework types."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class GlobalRole(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"


class WorkspaceRole(enum.StrEnum):
    OWNER = "owner"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    """What a Telegram update tells about its sender."""

    telegram_id: int
    username: str | None
    first_name: str
    last_name: str | None
    language_code: str | None


@dataclass(frozen=True, slots=True)
class UserDTO:
    id: int
    telegram_id: int
    username: str | None
    first_name: str
    last_name: str | None
    language: str
    language_explicit: bool
    role: GlobalRole
    blocked: bool

    @property
    def is_admin(self) -> bool:
        return self.role is GlobalRole.ADMIN


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    id: int
    name: str
    role: WorkspaceRole
    personal: bool


@dataclass(frozen=True, slots=True)
class TeamMember:
    """A person in a workspace's team, as the team list shows them."""

    user_id: int
    telegram_id: int
    username: str | None
    first_name: str
    role: WorkspaceRole

    @property
    def label(self) -> str:
        return f"@{self.username}" if self.username else self.first_name or str(self.telegram_id)


@dataclass(frozen=True, slots=True)
class StoredCode:
    user_id: int
    code_hash: bytes
    expires_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class SessionState:
    id: uuid.UUID
    user_id: int
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked: bool


@dataclass(frozen=True, slots=True)
class RefreshState:
    """A refresh token row with its session, read under a row lock."""

    session: SessionState
    used: bool


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a web request came from, for the audit log and the login notice."""

    ip: str | None
    user_agent: str | None


class AccountStatus(enum.StrEnum):
    """DESIGN §5. Only `active` accounts (and `cooldown`/`parked` past their time) do work."""

    ACTIVE = "active"
    COOLDOWN = "cooldown"  # a flood wait, until a time
    PARKED = "parked"  # PEER_FLOOD: resting for a day, then checked with @SpamBot
    RESTRICTED = (
        "restricted"  # spam-restricted by Telegram (USER_BANNED_IN_CHANNEL, PEER_FLOOD again)
    )
    FROZEN = "frozen"  # frozen by Telegram (FROZEN_*): only an appeal helps
    UNAUTHORIZED = "unauthorized"
    BANNED = "banned"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class AccountDTO:
    """A linked account as the rules see it. The sealed session is fetched separately."""

    id: int
    workspace_id: int
    tg_user_id: int
    username: str | None
    first_name: str
    phone_masked: str | None
    status: AccountStatus
    status_reason: str | None
    cooldown_until: datetime | None
    created_at: datetime
    usage_today: int = 0  # invites that spent quota since 00:00 UTC (filled by listings)
    last_peer_flood_at: datetime | None = None  # a second PEER_FLOOD soon after: `restricted`
    last_checked_at: datetime | None = None  # the health check's last look (@SpamBot: once a day)


@dataclass(frozen=True, slots=True)
class AudienceDTO:
    id: int
    workspace_id: int
    name: str
    source: str | None
    size: int
    pending_usernames: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MemberDTO:
    user_id: int
    username: str | None
    first_name: str
    last_name: str | None
    last_seen: str
    premium: bool
    photo: bool
    source: str | None


@dataclass(frozen=True, slots=True)
class ParseTaskDTO:
    id: int
    workspace_id: int
    created_by_user_id: int | None
    kind: str
    source: str
    source_title: str | None
    audience_id: int
    speed: str
    priority: int
    params: dict[str, Any]
    status: str
    error: str | None
    progress_done: int
    progress_total: int | None
    collected: int
    new_members: int
    skipped: int
    found_by_search: int
    accounts_used: dict[str, Any]
    notify_chat_id: int | None
    notify_message_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class CampaignDTO:
    id: int
    workspace_id: int
    created_by_user_id: int | None
    name: str
    audience_id: int | None
    target_ref: str
    target_chat_id: int | None
    target_kind: str | None
    target_title: str | None
    invite_link: str | None
    status: str
    start_at: datetime | None
    active_from_hour: int | None
    active_to_hour: int | None
    limits: dict[str, Any]
    preflight: dict[str, Any]
    waiting_reason: str | None
    paused_reason: str | None
    notify_chat_id: int | None
    notify_message_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class InviteEventDTO:
    id: int
    at: datetime
    account_id: int | None
    account_label: str | None
    tg_user_id: int
    username: str | None
    outcome: str
    reason: str | None
    error: str | None = None  # Telegram's own error name, verbatim


@dataclass(frozen=True, slots=True)
class AccountUsageDTO:
    """One account's part in a campaign, and what it has spent today (UTC)."""

    account_id: int
    label: str
    invited: int
    failed: int
    attempts: int  # attempts that spent quota, in this campaign
    today: int  # quota spent today, all chats
    today_in_chat: int  # quota spent today into this campaign's chat


@dataclass(frozen=True, slots=True)
class FollowUpDTO:
    tg_user_id: int | None
    username: str | None
    first_name: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ReportReads:
    """What a campaign's report reads, as the store gives it in one round trip."""

    campaign: CampaignDTO
    counts: dict[str, int]  # targets by state
    reasons: dict[str, int]  # people by reason among the failed and skipped, most first
    accounts: list[AccountUsageDTO]
    follow_ups: list[tuple[int, FollowUpDTO]]  # (cursor key, person)
    setting: dict[str, Any] | None  # the installation setting asked for
