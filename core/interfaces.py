"""What the rules need from storage, as narrow protocols (implemented in `db/`).

The domain package never imports SQLAlchemy or Redis: use cases receive objects that
satisfy these protocols, so the same rule runs under the bot, the API and the workers.
Repositories never commit; the use case does, through `Dal.commit()`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from core.campaigns import CampaignStatus
from core.dto import (
    AccountDTO,
    AccountStatus,
    AudienceDTO,
    CampaignDTO,
    FollowUpDTO,
    GlobalRole,
    InviteEventDTO,
    MemberDTO,
    ParseTaskDTO,
    RefreshState,
    ReportReads,
    StoredCode,
    TeamMember,
    TelegramProfile,
    UserDTO,
    WorkspaceRef,
    WorkspaceRole,
)
from core.installation import AuditEntry, InstallationCounts, InstallationStore, WorkerBeat
from core.parsing import InvitePreview, ParseStatus
from core.secretbox import Sealed
from core.telegram import AccountInfo

if TYPE_CHECKING:
    from core.audiences import MemberQuery


class UserStore(Protocol):
    async def upsert_user(
        self, profile: TelegramProfile, *, make_admin: bool
    ) -> tuple[UserDTO, bool]:
        """Insert or refresh the user by Telegram id; the bool says whether it was created."""

    async def get_user(self, user_id: int) -> UserDTO | None: ...

    async def get_user_by_telegram_id(self, telegram_id: int) -> UserDTO | None: ...

    async def find_user_by_username(self, username: str) -> UserDTO | None:
        """Case-insensitive lookup; `username` is already lower-case without `@`."""

    async def set_language(self, user_id: int, language: str) -> UserDTO: ...

    async def create_workspace(self, owner_id: int, name: str, *, personal: bool) -> int: ...

    async def list_workspaces(self, user_id: int) -> list[WorkspaceRef]: ...

    async def workspace_role(self, user_id: int, workspace_id: int) -> WorkspaceRole | None: ...

    async def current_workspace_id(self, user_id: int) -> int | None:
        """The workspace the user last chose in the bot (not checked against memberships)."""

    async def set_current_workspace(self, user_id: int, workspace_id: int) -> None: ...


class TeamStore(Protocol):
    async def list_members(self, workspace_id: int) -> list[TeamMember]:
        """The workspace's team: the owner first, then managers in the order they joined."""

    async def add_member(self, workspace_id: int, user_id: int, role: WorkspaceRole) -> bool:
        """False when the user is already a member (of any role)."""

    async def remove_member(self, workspace_id: int, user_id: int) -> bool:
        """False when the user was not a member; a removed member's bot leaves the workspace."""


class LoginStore(Protocol):
    async def replace_code(self, user_id: int, code_hash: bytes, expires_at: datetime) -> None: ...

    async def lock_code(self, user_id: int) -> StoredCode | None:
        """The user's live code row, locked until commit (`SELECT … FOR UPDATE`)."""

    async def set_code_attempts(self, user_id: int, attempts: int) -> None: ...

    async def delete_code(self, user_id: int) -> None: ...

    async def create_session(
        self, user_id: int, expires_at: datetime, ip: str | None, user_agent: str | None
    ) -> uuid.UUID: ...

    async def add_refresh_token(self, digest: bytes, session_id: uuid.UUID) -> None: ...

    async def lock_refresh_token(self, digest: bytes) -> RefreshState | None: ...

    async def mark_refresh_used(self, digest: bytes, at: datetime) -> None: ...

    async def touch_session(self, session_id: uuid.UUID, at: datetime) -> None: ...

    async def revoke_session(self, session_id: uuid.UUID, at: datetime, reason: str) -> bool:
        """Revoke if still live; False when it was already revoked or does not exist."""

    async def session_standing(self, session_id: uuid.UUID) -> bool:
        """True when the session exists, is not revoked and its user is not blocked: what
        PostgreSQL, the source of truth, says about an access token's `sid`."""


class AuditStore(Protocol):
    async def audit(
        self,
        action: str,
        *,
        actor_user_id: int | None = None,
        workspace_id: int | None = None,
        details: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> None: ...


class Throttle(Protocol):
    """Short-lived counters and flags shared by every process (Redis)."""

    async def hit(self, key: str, window_s: int) -> tuple[int, int]:
        """Count one event in a fixed window; returns (count, seconds left in the window)."""

    async def peek(self, key: str) -> tuple[int, int]:
        """(count, seconds left) without counting."""

    async def set_flag(self, key: str, ttl_s: int) -> None: ...

    async def flag_ttl(self, key: str) -> int:
        """Seconds left on a flag; 0 when it is not set."""

    async def clear(self, key: str) -> None: ...

    async def flags_left_ms(self, *keys: str) -> list[int]:
        """Milliseconds left on several flags (0: not set), in one round trip."""


class Notifier(Protocol):
    """Messages for the bot to deliver to a Telegram user (from any process)."""

    async def notify(self, telegram_id: int, kind: str, payload: dict[str, str]) -> None: ...


class AccountStore(Protocol):
    async def add_account(
        self,
        workspace_id: int,
        added_by: int,
        info: AccountInfo,
        phone_masked: str | None,
        seal: Callable[[int], Sealed],
    ) -> tuple[AccountDTO, bool]:
        """Insert or re-link by (workspace, Telegram id); `seal(account_id)` seals the session.
        The bool says whether the account is new."""

    async def list_accounts(
        self, workspace_id: int, *, after_id: int, limit: int
    ) -> list[AccountDTO]: ...

    async def get_account(self, workspace_id: int, account_id: int) -> AccountDTO | None: ...

    async def all_accounts(self, *, after_id: int, limit: int) -> list[AccountDTO]: ...

    async def sealed_session(self, account_id: int) -> Sealed | None: ...

    async def set_account_status(
        self,
        account_id: int,
        status: AccountStatus,
        reason: str | None,
        cooldown_until: datetime | None = None,
    ) -> AccountDTO | None:
        """Set the status; returns the account as it was before, or None when it is gone."""

    async def touch_account_checked(self, account_id: int) -> None: ...

    async def delete_account(self, account_id: int) -> None: ...

    async def sealed_batch_not_under(
        self, key_id: str, limit: int
    ) -> list[tuple[int, int, Sealed]]:
        """Up to `limit` (account id, workspace id, sealed) rows sealed with another key,
        locked for this transaction and skipped by concurrent rotations."""

    async def replace_sealed(self, account_id: int, sealed: Sealed) -> None: ...

    async def workspace_owner_telegram_id(self, workspace_id: int) -> int | None: ...


class AudienceStore(Protocol):
    async def audience_by_name(self, workspace_id: int, name: str) -> AudienceDTO | None: ...

    async def create_audience(
        self, workspace_id: int, name: str, source: str | None, user_id: int
    ) -> AudienceDTO: ...

    async def get_audience(self, workspace_id: int, audience_id: int) -> AudienceDTO | None: ...

    async def list_audiences(
        self, workspace_id: int, *, after_id: int, limit: int
    ) -> list[AudienceDTO]: ...

    async def delete_audience(self, audience_id: int) -> None: ...

    async def audience_members(
        self,
        workspace_id: int,
        audience_id: int,
        *,
        after_user_id: int,
        limit: int,
        query: MemberQuery | None = None,
    ) -> list[MemberDTO] | None:
        """A page of the audience's members; None: no such audience in the workspace."""

    def audience_member_batches(
        self,
        workspace_id: int,
        audience_id: int,
        batch: int = 5000,
        *,
        query: MemberQuery | None = None,
    ) -> AsyncIterator[list[MemberDTO]]: ...

    async def audience_usernames(self, audience_id: int) -> list[str]: ...

    async def add_members(
        self, audience_id: int, members: Sequence[MemberDTO], usernames: Sequence[str], source: str
    ) -> tuple[int, int] | None: ...

    async def create_parse_task(self, **fields: Any) -> ParseTaskDTO: ...

    async def get_parse_task(self, workspace_id: int, task_id: int) -> ParseTaskDTO | None: ...

    async def find_parse_task(self, task_id: int) -> ParseTaskDTO | None:
        """By id alone, whatever the workspace: never for a caller's request."""

    async def list_parse_tasks(
        self, workspace_id: int, *, before_id: int | None, limit: int
    ) -> list[ParseTaskDTO]: ...

    async def move_parse_task(
        self,
        task_id: int,
        from_statuses: Sequence[ParseStatus],
        to_status: ParseStatus,
        **extra: Any,
    ) -> bool:
        """Conditional status change; False when the task was not in one of `from_statuses`."""

    async def set_parse_task_message(self, task_id: int, chat_id: int, message_id: int) -> None: ...


class CampaignStore(Protocol):
    async def create_campaign(
        self,
        workspace_id: int,
        name: str,
        audience_id: int | None,
        target_ref: str,
        *,
        user_id: int | None = None,
        limits: dict[str, Any] | None = None,
        start_at: datetime | None = None,
        active_hours: tuple[int, int] | None = None,
        trace_id: str | None = None,
    ) -> int: ...

    async def delete_draft(self, campaign_id: int) -> bool: ...

    async def duplicate_campaign(self, campaign_id: int, user_id: int | None, name: str) -> int: ...

    async def campaign_view(self, workspace_id: int, campaign_id: int) -> CampaignDTO | None: ...

    async def find_campaign(self, campaign_id: int) -> CampaignDTO | None: ...

    async def find_campaigns(self, campaign_ids: list[int]) -> dict[int, CampaignDTO]:
        """Campaigns by id alone (never for a user's request without a tenancy check)."""

    async def list_campaigns(
        self,
        workspace_id: int,
        *,
        before_id: int | None,
        limit: int,
        statuses: list[str] | None = None,
    ) -> list[CampaignDTO]: ...

    async def campaigns_with_counts(
        self,
        workspace_id: int,
        *,
        before_id: int | None,
        limit: int,
        statuses: list[str] | None = None,
    ) -> list[tuple[CampaignDTO, dict[str, int]]]:
        """`list_campaigns` with each one's `counts`, read together."""

    async def campaign_with_counts(
        self, workspace_id: int, campaign_id: int
    ) -> tuple[CampaignDTO, dict[str, int]] | None:
        """`campaign_view` with its `counts`, read together."""

    async def set_status(
        self, campaign_id: int, status: CampaignStatus, *, only_from: Iterable[CampaignStatus]
    ) -> bool: ...

    async def set_campaign_message(
        self, campaign_id: int, chat_id: int, message_id: int
    ) -> None: ...

    async def fill_targets(self, campaign_id: int, in_chat: list[int] | None = None) -> int: ...

    async def counts(self, campaign_id: int) -> dict[str, int]: ...

    async def counts_of(self, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
        """`counts` of several campaigns at once, keyed by campaign id."""

    async def tally(self, campaign_id: int) -> tuple[dict[str, int], dict[str, int]]:
        """`counts` and the reasons of the failed and skipped ({code: people}, most first)."""

    async def follow_ups(
        self, campaign_id: int, *, after_id: int, limit: int
    ) -> list[tuple[int, FollowUpDTO]]: ...

    async def campaign_report(
        self,
        workspace_id: int,
        campaign_id: int,
        *,
        follow_up_after: int,
        follow_up_limit: int,
        setting: str,
    ) -> ReportReads | None:
        """A campaign of the workspace, its `tally`, each account's part and what it spent
        today (UTC), a page of `follow_ups` and an installation setting, read together; None:
        no such campaign there."""

    async def campaign_events(
        self, workspace_id: int, campaign_id: int, *, after_id: int, limit: int
    ) -> list[InviteEventDTO] | None:
        """A page of the campaign's attempts; None: no such campaign in the workspace."""

    async def workspace_counts(self, workspace_id: int) -> dict[str, int]:
        """`counts` summed over every campaign of the workspace."""

    async def attempts_since(self, workspace_id: int, since: datetime) -> tuple[int, int]:
        """(quota-spending invite calls, people added) since `since`."""

    async def invites_today(self, workspace_id: int, day: datetime) -> dict[str, int]: ...

    async def invites_between(
        self, workspace_id: int, start: datetime, end: datetime | None
    ) -> dict[str, int]: ...


class AdminStore(InstallationStore, Protocol):
    """Installation-wide reads and changes for admins: across workspaces, never for users."""

    async def search_users(
        self, *, username_prefix: str | None, telegram_id: int | None, after_id: int, limit: int
    ) -> list[UserDTO]:
        """Users by id; both filters None: everyone. `username_prefix` is lower-case, no `@`."""

    async def set_user_blocked(self, user_id: int, blocked: bool) -> UserDTO | None: ...

    async def set_user_role(self, user_id: int, role: GlobalRole) -> UserDTO | None: ...

    async def revoke_user_sessions(
        self, user_id: int, at: datetime, reason: str
    ) -> list[uuid.UUID]:
        """Revoke every live panel session of the user; returns their ids."""

    async def installation_counts(self, day: datetime) -> InstallationCounts:
        """Totals of the installation; invites counted from `day` (00:00 UTC) on."""

    async def accounts_health(
        self, status: AccountStatus | None, *, after_id: int, limit: int
    ) -> list[AccountDTO]: ...

    async def audit_events(
        self, workspace_id: int | None, *, before_id: int | None, limit: int
    ) -> list[AuditEntry]:
        """Newest first; `workspace_id` None: every event of the installation."""


class WorkerRegistry(Protocol):
    """Worker processes alive now (their heartbeats)."""

    async def alive_workers(self) -> list[WorkerBeat]: ...


class SourceCheck(Protocol):
    """Asks Telegram, before a collection is queued, whether `username` names a chat.

    Raises `InvalidInput` (problem `source_not_found` or `source_is_person`) when Telegram
    says no; returns quietly when it says yes or cannot be asked now (no free account): the
    worker finds out then, as before."""

    async def __call__(self, workspace_id: int, username: str) -> None: ...


class InviteCheck(Protocol):
    """Asks Telegram, through the account that is to join, what an invite link leads to.

    Raises `InvalidInput` (problem `invite_expired`, `invite_invalid`, ...) when the link is
    refused; returns None when the account cannot be asked now (the worker finds out)."""

    async def __call__(
        self, workspace_id: int, invite_hash: str, account_id: int
    ) -> InvitePreview | None: ...


class SessionRevoker(Protocol):
    """Makes revoked panel sessions fail at once in every API process."""

    async def forget_sessions(self, session_ids: Iterable[uuid.UUID]) -> None: ...


class Dal(
    UserStore,
    LoginStore,
    AuditStore,
    AccountStore,
    AudienceStore,
    CampaignStore,
    TeamStore,
    AdminStore,
    Protocol,
):
    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
