"""Rules for linking a Telegram account by hand: what a phone number and a login code look
like, how long a half-done login may live and how many wrong answers it takes.

The bot asks for these values in a chat, the panel's API in a form. Both must accept and
refuse the same input, renew QR codes on the same schedule and name Telegram's refusals the
same way, so the rules live here once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from core import telegram as tg
from core.errors import InvalidInput

LOGIN_TTL_S = 300
"""A login not finished within this time is abandoned (DESIGN §5)."""
MAX_TRIES = 3
"""Wrong codes or passwords before a login is stopped."""

_PHONE = re.compile(r"\+[0-9]{7,15}")
_PHONE_NOISE = re.compile(r"[\s\-().]")
_CODE = re.compile(r"[0-9]{4,8}")
_CODE_NOISE = re.compile(r"[\s\-]")


def parse_phone(raw: str) -> str:
    """`+7 (999) 123-45-67` → `+79991234567`.

    Raises InvalidInput unless it is `+` and 7 to 15 digits (spaces, dashes, dots and
    brackets between them are fine).
    """
    phone = _PHONE_NOISE.sub("", raw.strip())
    if not _PHONE.fullmatch(phone):
        raise InvalidInput("phone", field="phone", problem="phone_format")
    return phone


def parse_login_code(raw: str) -> str:
    """The digits of a login code typed as `1 2 3 4 5`, `12-345` or `12345`.

    Raises InvalidInput for anything else. Telegram voids a code that is sent on to
    another chat as it was received, which is why people are told to type it with spaces.
    """
    code = _CODE_NOISE.sub("", raw.strip())
    if not _CODE.fullmatch(code):
        raise InvalidInput("code", field="code", problem="login_code_format")
    return code


class CodeDelivery(StrEnum):
    """Where Telegram sent a login code (core.telegram.org/type/auth.SentCodeType): the
    person has to be told where to look."""

    APP = "app"
    """A Telegram app where the account is logged in (another phone or computer)."""
    SMS = "sms"
    CALL = "call"
    """A phone call dictates it (or it is the last digits of the number that calls)."""
    EMAIL = "email"
    """The account's login email."""
    OTHER = "other"
    """A way this product does not name (e.g. Fragment): the person is told in general."""


@dataclass(frozen=True, slots=True)
class CodeSent:
    via: CodeDelivery
    email_pattern: str | None = None
    """For EMAIL: Telegram's hint of the address, like `a***@g***.com`."""


# ---- shared by every place that runs a login (the bot's chat, the panel's API) ----------
QR_RENEW_MARGIN_S = 5.0
"""Renew a QR code this long before Telegram lets it expire (at most half its life)."""
QR_FALLBACK_LIFE_S = 30.0
"""Assumed life of a code whose expiry is already past by our clock (a skewed clock)."""
FLOOD_MINUTES_MAX = 90
"""A longer flood wait is told in hours: a count of minutes that big reads badly."""


def qr_renew_after(
    expires_at: datetime, now: datetime, margin_s: float = QR_RENEW_MARGIN_S
) -> float:
    """Seconds from `now` after which a QR code expiring at `expires_at` is replaced.

    auth.exportLoginToken's `expires` is Telegram's clock: a code whose expiry already looks
    past by ours (a skewed clock) is given the usual life rather than renewed in a loop.
    """
    life = (expires_at - now).total_seconds()
    if life <= 0:
        life = QR_FALLBACK_LIFE_S
    return life - min(margin_s, life / 2)


@dataclass(frozen=True, slots=True)
class LoginFailure:
    """Why a login ended on a refusal, as a reason with the numbers its sentence needs.

    Each edge has its sentences under its own prefix (`linking.<reason>` in the bot,
    `weblink.<reason>` in the panel's API), since the next step differs (a command, a button).
    """

    reason: str
    params: dict[str, Any]


def login_failure(exc: BaseException) -> LoginFailure:
    """What a refusal that ends a login means to the person (any step of any login)."""
    if isinstance(exc, tg.FloodWait):
        minutes = max(1, math.ceil(exc.seconds / 60))
        if minutes <= FLOOD_MINUTES_MAX:
            return LoginFailure("flood_wait", {"minutes": minutes})
        return LoginFailure("flood_wait_hours", {"hours": math.ceil(exc.seconds / 3600)})
    if isinstance(exc, tg.AccountBanned):
        # core.telegram.org/method/auth.sendCode: PHONE_NUMBER_BANNED (400)
        return LoginFailure("phone_banned", {})
    if isinstance(exc, tg.PhoneFlood):
        return LoginFailure("phone_flood", {})
    if isinstance(exc, tg.PasswordFlood):
        return LoginFailure("password_flood", {})
    if isinstance(exc, tg.CodeExpired):
        # core.telegram.org/method/auth.signIn: PHONE_CODE_EXPIRED (400)
        return LoginFailure("code_expired", {})
    if isinstance(exc, tg.PhoneNotRegistered):
        return LoginFailure("phone_not_registered", {})
    if isinstance(exc, tg.LoginEmailRequired):
        return LoginFailure("email_setup_required", {})
    if isinstance(exc, OSError):
        # A refused or lost connection: no answer from Telegram to report.
        return LoginFailure("no_connection", {})
    rpc = exc.rpc if isinstance(exc, tg.TelegramError) else type(exc).__name__
    return LoginFailure("failed", {"error": rpc})
