"""What the product knows about Telegram, without Telethon: account facts and error kinds.

The Telethon gateway (`gateway/errors.py`) turns Telethon's errors into these, so the
rules (account status changes, retries, cool-downs) are written once against plain types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.errors import DomainError
from core.parsing import Person


@dataclass(frozen=True, slots=True)
class AccountInfo:
    tg_user_id: int
    username: str | None
    first_name: str
    phone: str | None


def mask_phone(phone: str | None) -> str | None:
    """`+7 999 123-45-67` → `+7******67`: enough to recognise, not enough to dial."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 5:
        return "+" + "*" * len(digits)
    return f"+{digits[0]}{'*' * (len(digits) - 3)}{digits[-2:]}"


class TelegramError(DomainError):
    code = "telegram_error"

    def __init__(self, rpc: str = "", **details: object) -> None:
        super().__init__(rpc or self.code, rpc=rpc, **details)
        self.rpc = rpc


class FloodWait(TelegramError):
    code = "flood_wait"

    def __init__(self, seconds: int, rpc: str = "") -> None:
        super().__init__(rpc or f"FLOOD_WAIT_{seconds}", seconds=seconds)
        self.seconds = seconds


class PeerFlood(TelegramError):
    code = "peer_flood"


class AccountUnauthorized(TelegramError):
    """The session was revoked or logged out: the account must be linked again."""

    code = "account_unauthorized"


class AccountBanned(TelegramError):
    """The account (or its phone number) is deactivated or banned by Telegram."""

    code = "account_banned"


class AuthKeyDuplicated(AccountUnauthorized):
    """Two connections used one session at once. Telegram has then invalidated the session:
    "the user must generate a new auth key and login again" (core.telegram.org/api/errors,
    406) — so it is an `AccountUnauthorized` like a revoked one: link the account again."""

    code = "auth_key_duplicated"


class Unreachable(TelegramError):
    """This account has no way to name the person: no access hash of its own, no username."""

    code = "unreachable"


class PasswordNeeded(TelegramError):
    code = "password_needed"


class WrongPassword(TelegramError):
    code = "wrong_password"


class WrongCode(TelegramError):
    code = "wrong_code"


class CodeExpired(TelegramError):
    code = "code_expired"


class PhoneInvalid(TelegramError):
    code = "phone_invalid"


class PhoneNotRegistered(TelegramError):
    code = "phone_not_registered"


class LoginTimeout(TelegramError):
    code = "login_timeout"


class LoginEmailRequired(TelegramError):
    """Telegram sends no login code until the account has a login email
    (auth.sentCodeTypeSetUpEmailRequired); the person sets it up in Telegram's own app."""

    code = "login_email_required"


class PhoneFlood(TelegramError):
    """PHONE_NUMBER_FLOOD: too many login codes were asked for this number lately."""

    code = "phone_flood"


class PasswordFlood(TelegramError):
    """PHONE_PASSWORD_FLOOD: too many login attempts; Telegram refuses logins for a while."""

    code = "password_flood"


# --- reading chats (audience collection) ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceChat:
    """A chat to collect people from, as one account sees it."""

    chat_id: int
    kind: str  # "group" (basic), "megagroup" or "channel" (broadcast)
    title: str
    username: str | None
    members_count: int | None
    linked_chat_id: int | None = None
    # Admins (and the creator) of the chat, and of a channel's discussion group, when visible.
    admin_ids: frozenset[int] = frozenset()
    members_hidden: bool = False
    can_view_members: bool = True

    @property
    def broadcast(self) -> bool:
        return self.kind == "channel"


@dataclass(frozen=True, slots=True)
class PeoplePage:
    """One answer of a listing call, reduced to the people in it.

    `fetched` counts what Telegram returned (participants or messages, duplicates included);
    `next` is where the following page starts (an offset or a message id), None at the end.
    """

    people: list[Person]
    fetched: int
    next: int | None
    total: int | None = None
    oldest: datetime | None = None


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    comments: int


@dataclass(frozen=True, slots=True)
class PostsPage:
    posts: list[Post] = field(default_factory=list)
    next: int | None = None


class SourceError(TelegramError):
    """The source cannot be read; `code` is what a parse task reports as its error."""

    code = "source_error"


class SourceNotFound(SourceError):
    """No chat has this username (or the link is malformed)."""

    code = "source_not_found"


class NoAccess(SourceError):
    """This account cannot read the chat: private, banned, or an admin is required.

    Another linked account may still see it.
    """

    code = "no_access"


class NotAMember(NoAccess):
    """The chat exists (its invite link works) but this account is not in it: as a target,
    accounts must already be members (admins who may add people)."""

    code = "not_a_member"


class NotAGroup(SourceError):
    """The username is a person, or a broadcast channel whose subscribers only admins see."""

    code = "not_a_group"


class NoDiscussion(SourceError):
    """A broadcast channel without a linked discussion group has no comments to collect."""

    code = "no_discussion"
