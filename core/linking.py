"""Rules for linking a Telegram account by hand: what a phone number and a login code look
like, how long a half-done login may live and how many wrong answers it takes.

The bot asks for these values in a chat; the API may one day ask for them in a form. Both
must accept and refuse the same input, so the rules live here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

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
        raise InvalidInput("phone", problem="phone: + and 7-15 digits")
    return phone


def parse_login_code(raw: str) -> str:
    """The digits of a login code typed as `1 2 3 4 5`, `12-345` or `12345`.

    Raises InvalidInput for anything else. Telegram voids a code that is sent on to
    another chat as it was received, which is why people are told to type it with spaces.
    """
    code = _CODE_NOISE.sub("", raw.strip())
    if not _CODE.fullmatch(code):
        raise InvalidInput("code", problem="code: 4-8 digits")
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
