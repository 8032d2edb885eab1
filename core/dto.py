"""Plain domain objects handed between storage and the rules. No ORM, no framework types."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime


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
    COOLDOWN = "cooldown"
    PARKED = "parked"
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
