"""What the product knows about Telegram, without Telethon: account facts and error kinds.

The Telethon gateway (`gateway/telegram.py`) turns Telethon's errors into these, so the
rules (account status changes, retries, cool-downs) are written once against plain types.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import DomainError


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


class AuthKeyDuplicated(TelegramError):
    """Two connections used one session at once: a lease was not respected."""

    code = "auth_key_duplicated"


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
