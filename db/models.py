"""SQLAlchemy 2 models: the source of truth shared by the bot, the API and the workers.

Every row of user data hangs off a workspace (DESIGN §2). Security rows keep only digests:
login codes as HMACs, refresh tokens as SHA-256.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.campaigns import CampaignStatus, TargetState
from core.dto import AccountStatus, GlobalRole, WorkspaceRole
from core.parsing import LastSeen, ParseKind, ParseStatus

# What a member search matches: username, first and last name as one lower-cased text,
# stored in `audience_members.search_text` (kept by PostgreSQL) under a trigram index.
MEMBER_SEARCH_TEXT = (
    "lower(coalesce(username, '') || ' ' || first_name || ' ' || coalesce(last_name, ''))"
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
    }


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    username: Mapped[str | None] = mapped_column(String(32))
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(2), default="en")
    # Set once the user picks a language with /lang; the client's language no longer applies.
    language_explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[GlobalRole] = mapped_column(
        _enum(GlobalRole, "global_role"), default=GlobalRole.USER
    )
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The workspace the bot works in for this user (a manager may switch to a team's one).
    current_workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="raise")

    __table_args__ = (Index("ix_users_username_lower", func.lower(username)),)

    def __repr__(self) -> str:
        return f"User(id={self.id}, telegram_id={self.telegram_id}, username={self.username!r})"


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    members: Mapped[list[Membership]] = relationship(back_populates="workspace", lazy="raise")


class Membership(Base):
    __tablename__ = "memberships"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[WorkspaceRole] = mapped_column(_enum(WorkspaceRole, "workspace_role"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
    workspace: Mapped[Workspace] = relationship(back_populates="members", lazy="raise")


class LoginCode(Base):
    """One live code per Telegram user: a new code replaces the old row."""

    __tablename__ = "login_codes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    def __repr__(self) -> str:
        return f"LoginCode(user_id={self.user_id}, expires_at={self.expires_at})"


class AuthSession(Base):
    """A panel login: the `sid` of access tokens and the owner of a refresh-token chain."""

    __tablename__ = "auth_sessions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(256))


class RefreshToken(Base):
    """A refresh token by digest. `replaced_at` set means it was used: showing it again is reuse."""

    __tablename__ = "refresh_tokens"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    replaced_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return (
            f"RefreshToken(session_id={self.session_id}, replaced={self.replaced_at is not None})"
        )


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL"), index=True
    )
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(INET)
    trace_id: Mapped[str | None] = mapped_column(String(32))


class TelegramAccount(Base):
    """A Telegram user account linked to a workspace. The session is sealed (core.secretbox)."""

    __tablename__ = "telegram_accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    added_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    tg_user_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(32))
    first_name: Mapped[str] = mapped_column(String(128), default="")
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[AccountStatus] = mapped_column(
        _enum(AccountStatus, "account_status"), default=AccountStatus.ACTIVE
    )
    status_reason: Mapped[str | None] = mapped_column(String(64))
    cooldown_until: Mapped[datetime | None]
    session_key_id: Mapped[str] = mapped_column(String(16))
    session_nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    session_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    last_checked_at: Mapped[datetime | None]
    # When the account last met PEER_FLOOD: a second one soon after makes it `restricted`.
    last_peer_flood_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (UniqueConstraint("workspace_id", "tg_user_id"),)

    def __repr__(self) -> str:  # the sealed session stays out of every repr and log line
        return (
            f"TelegramAccount(id={self.id}, workspace_id={self.workspace_id}, "
            f"username={self.username!r}, status={self.status})"
        )


class AccountLease(Base):
    """Which process may use an account now. `epoch` grows on every handover (fencing)."""

    __tablename__ = "account_leases"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("telegram_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(96))
    epoch: Mapped[int] = mapped_column(BigInteger, default=1)
    acquired_at: Mapped[datetime] = mapped_column(server_default=func.now())
    heartbeat_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Audience(Base):
    """A named list of people in a workspace, deduplicated by Telegram user id."""

    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    source: Mapped[str | None] = mapped_column(String(128))
    # Kept by the same statements that add members, so listing audiences never counts rows.
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    # When the owner was told the audience, unused for long, is about to be deleted.
    retention_notice_at: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_audiences_workspace_name", "workspace_id", func.lower(name), unique=True),
    )


class AudienceMember(Base):
    __tablename__ = "audience_members"

    # The audience and the account that saw the person are references without a foreign
    # key: a collection writes a million rows at a time, and a foreign key checks each row.
    # The writers check each parent once a statement (FOR KEY SHARE), and triggers do what
    # ON DELETE CASCADE / SET NULL did (migration e5b7c9d1f3a2).
    audience_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tg_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str | None] = mapped_column(String(32))
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str | None] = mapped_column(String(128))
    last_seen: Mapped[LastSeen] = mapped_column(
        _enum(LastSeen, "last_seen"), default=LastSeen.UNKNOWN
    )
    premium: Mapped[bool] = mapped_column(Boolean, default=False)
    photo: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(128))
    # The access hash is only valid for the account that saw the user.
    seen_by_account_id: Mapped[int | None] = mapped_column(BigInteger)
    access_hash: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Derived from the names above, never written by the product; what `q` searches.
    search_text: Mapped[str] = mapped_column(
        Text, Computed(MEMBER_SEARCH_TEXT, persisted=True), deferred=True
    )

    __table_args__ = (
        # `q` of the member list: search_text LIKE lower('%q%') (db/dal_audiences.py).
        Index(
            "ix_audience_members_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class AudienceUsername(Base):
    """Someone imported by username only: kept until an account resolves them.

    The id is unknown, so they cannot sit in `audience_members` (keyed by Telegram id);
    the account that later invites them resolves the username itself, which is also the
    only way its own access hash is obtained.
    """

    __tablename__ = "audience_usernames"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    username_lower: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ParseTask(Base):
    """One collection job. `cursor` is where it stopped: a restarted worker resumes from it."""

    __tablename__ = "parse_tasks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: Mapped[ParseKind] = mapped_column(_enum(ParseKind, "parse_kind"))
    source: Mapped[str] = mapped_column(String(128))
    source_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    source_title: Mapped[str | None] = mapped_column(String(256))
    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), index=True
    )
    speed: Mapped[str] = mapped_column(String(16), default="medium")
    priority: Mapped[int] = mapped_column(SmallInteger, default=1)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ParseStatus] = mapped_column(
        _enum(ParseStatus, "parse_status"), default=ParseStatus.QUEUED
    )
    error: Mapped[str | None] = mapped_column(String(64))
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    collected: Mapped[int] = mapped_column(BigInteger, default=0)
    new_members: Mapped[int] = mapped_column(BigInteger, default=0)
    skipped: Mapped[int] = mapped_column(BigInteger, default=0)
    found_by_search: Mapped[int] = mapped_column(BigInteger, default=0)
    accounts_used: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Who runs it now: a worker claims the task with an expiring, epoch-fenced claim.
    claimed_by: Mapped[str | None] = mapped_column(String(96))
    claim_epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    claim_expires_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]
    # Where the bot keeps the progress message of this task.
    notify_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    notify_message_id: Mapped[int | None] = mapped_column(BigInteger)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (Index("ix_parse_tasks_queue", "status", "priority", "id"),)


# --- invite campaigns (DESIGN §7) --------------------------------------------------------------
class Campaign(Base):
    """One audience invited into one target chat with the workspace's accounts."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(128))
    audience_id: Mapped[int | None] = mapped_column(ForeignKey("audiences.id", ondelete="SET NULL"))
    # The chat as the owner named it (public username or basic group id) and as it resolved.
    target_ref: Mapped[str] = mapped_column(String(128))
    target_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    target_kind: Mapped[str | None] = mapped_column(String(16))
    target_title: Mapped[str | None] = mapped_column(String(256))
    invite_link: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    start_at: Mapped[datetime | None]
    # Daily active hours, UTC, [from, to); both empty: any time.
    active_from_hour: Mapped[int | None] = mapped_column(SmallInteger)
    active_to_hour: Mapped[int | None] = mapped_column(SmallInteger)
    priority: Mapped[int] = mapped_column(SmallInteger, default=1)
    limits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    preflight: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Why a campaign is `waiting`: "quota" (every account spent its limits) or "hours".
    waiting_reason: Mapped[str | None] = mapped_column(String(32))
    # Why a campaign paused itself (e.g. "chat_full"); cleared on resume.
    paused_reason: Mapped[str | None] = mapped_column(String(32))
    # Where the automatic brake's window starts again after it paused the campaign.
    brake_after_event_id: Mapped[int | None] = mapped_column(BigInteger)
    brake_after_at: Mapped[datetime | None]
    # Where the bot keeps the progress message of this campaign.
    notify_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    notify_message_id: Mapped[int | None] = mapped_column(BigInteger)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (Index("ix_campaigns_status", "status", "priority", "id"),)


class CampaignTarget(Base):
    """One person of a campaign. `sending` is the journal row committed before the call."""

    __tablename__ = "campaign_targets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # None for someone imported by username only, until an account resolves them.
    tg_user_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(32))
    seen_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("telegram_accounts.id", ondelete="SET NULL")
    )
    access_hash: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[TargetState] = mapped_column(
        _enum(TargetState, "campaign_target_state"), default=TargetState.PENDING
    )
    reason: Mapped[str | None] = mapped_column(String(32))
    # The claim: which account under which lease epoch, and until when it may be sending.
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    claim_epoch: Mapped[int | None] = mapped_column(BigInteger)
    claimed_until: Mapped[datetime | None]
    not_before: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    __table_args__ = (
        UniqueConstraint("campaign_id", "tg_user_id"),
        Index("ix_campaign_targets_queue", "campaign_id", "state", "seen_by_account_id", "id"),
        Index(
            "ux_campaign_targets_username",
            "campaign_id",
            text("lower(username)"),
            unique=True,
            postgresql_where=text("tg_user_id IS NULL"),
        ),
        # The claim's way to the next pending person of a campaign.
        Index(
            "ix_campaign_targets_pending",
            "campaign_id",
            "id",
            postgresql_where=text("state = 'pending'"),
        ),
        # The follow-up list's pages (report and export): failed targets after a cursor.
        Index(
            "ix_campaign_targets_failed",
            "campaign_id",
            "id",
            postgresql_where=text("state = 'failed'"),
        ),
    )


class CampaignTargetCount(Base):
    """Targets of a campaign by state and reason, kept by triggers on `campaign_targets` in
    the statement that changes them (migration d9a4f2c7e1b6). Each connection adds to its own
    rows (`shard`, its backend's pid); a campaign's figure is the sum over its shards."""

    __tablename__ = "campaign_target_counts"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True, server_default="")
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class CampaignAccountCount(Base):
    """A campaign's attempts per account (invited, failed, quota spent), kept by triggers on
    `invite_events` like `CampaignTargetCount`."""

    __tablename__ = "campaign_account_counts"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    invited: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(BigInteger)


class AccountChat(Base):
    """A chat as one account resolved it: access hashes are per account, and resolving a
    username again on every pass is what earns hours-long flood waits."""

    __tablename__ = "account_chats"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("telegram_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    access_hash: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(256))
    username: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime] = mapped_column(server_default=func.now())


class InviteLedger(Base):
    """Every person ever tried per workspace and target chat: nobody is invited twice."""

    __tablename__ = "invite_ledger"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tg_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TargetDayCount(Base):
    """Invites into one target chat per UTC day by all of a workspace's accounts: reserved by
    the claim (an upsert that re-checks the cap under the row's lock), given back by a result
    that spent no quota (`INVITE_DAILY_PER_TARGET`)."""

    __tablename__ = "target_day_counts"

    workspace_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, server_default="0")


class OptOut(Base):
    """People who asked not to be invited by this workspace."""

    __tablename__ = "opt_outs"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    tg_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class GlobalOptOut(Base):
    """People who told the installation's bot never to be invited (/optout): no workspace
    of the installation invites them until they send /optin."""

    __tablename__ = "global_opt_outs"

    tg_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # command | deep_link
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class RetentionCheck(Base):
    """One invited person, checked again a day and a week after the invite: still in the
    chat? Written by a trigger on `campaign_targets` when a target becomes `invited`
    (migration f3a7c9e2b841); the checks fill it in (workers/retention.py)."""

    __tablename__ = "retention_checks"

    campaign_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    tg_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # The audience the person came from (reports per source audience).
    audience_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("audiences.id", ondelete="SET NULL")
    )
    account_id: Mapped[int | None] = mapped_column(BigInteger)  # the account that invited them
    added_at: Mapped[datetime]
    stayed_day: Mapped[bool | None] = mapped_column(Boolean)
    stayed_week: Mapped[bool | None] = mapped_column(Boolean)
    left_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]  # a check that could not decide waits until then
    tries: Mapped[int] = mapped_column(SmallInteger, server_default="0")

    __table_args__ = (
        Index("ix_retention_checks_due", "added_at", postgresql_where=text("stayed_week IS NULL")),
        Index("ix_retention_checks_workspace", "workspace_id", "tg_user_id"),
    )


class InviteEvent(Base):
    """One attempt: the campaign's log, and what the per-account limits are counted from."""

    __tablename__ = "invite_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    tg_user_id: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    # Telegram's own error name, verbatim (a new error must at least be visible).
    error: Mapped[str | None] = mapped_column(String(64))
    # Whether the attempt spent the account's quota (a flood wait does not).
    counted: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        Index("ix_invite_events_account_at", "account_id", "at"),
        Index("ix_invite_events_account_chat", "account_id", "chat_id", "at"),
        Index("ix_invite_events_campaign", "campaign_id", "id"),
        Index("ix_invite_events_chat", "workspace_id", "chat_id"),
        # The few attempts waiting for a membership check, found without walking a campaign.
        Index(
            "ix_invite_events_unconfirmed",
            "campaign_id",
            "tg_user_id",
            postgresql_where=text("outcome = 'unconfirmed'"),
        ),
    )


class AccountStatusChange(Base):
    """One status an account took, when and why: written by a trigger on `telegram_accounts`
    whatever statement changed it (migration c7d1e9f3a5b2); the accounts' history reads it."""

    __tablename__ = "account_status_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("telegram_accounts.id", ondelete="CASCADE")
    )
    workspace_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(server_default=text("clock_timestamp()"))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime | None]

    __table_args__ = (Index("ix_account_status_changes_account_at", "account_id", "at"),)


class InstallationSetting(Base):
    """Installation-wide values admins change at run time (e.g. the maximum invite limits)."""

    __tablename__ = "installation_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()
    updated_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
