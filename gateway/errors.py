"""Telethon's errors as the product's: the one place where an RPC error gets its meaning.

Telegram names every refusal (`USER_PRIVACY_RESTRICTED`, `FLOOD_WAIT_30`, ...); Telethon turns
the name into an exception class. Here the class becomes a domain error of `core.telegram`
carrying Telegram's own name (`rpc`), so that the rules in `core` (the refusal table in
`core/outcomes.py`) decide what happens and the name can be kept verbatim.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from telethon import errors
from telethon.errors import rpcerrorlist

from core import telegram as tg

_UNAUTHORIZED = (
    errors.AuthKeyUnregisteredError,
    errors.SessionRevokedError,
    errors.SessionExpiredError,
    errors.AuthKeyInvalidError,
)
_BANNED = (
    errors.UserDeactivatedError,
    errors.UserDeactivatedBanError,
    errors.PhoneNumberBannedError,
)


# Telethon's errors named by a pattern (FLOOD_WAIT_(\d+), ...), with the class of each.
_PATTERNS: dict[type[BaseException], str] = {
    cls: pattern for pattern, cls in rpcerrorlist.rpc_errors_re
}


def rpc_name(exc: BaseException) -> str:
    """Telegram's name of the error, verbatim: Telethon keeps it only in the class
    (`AuthKeyUnregisteredError` → `AUTH_KEY_UNREGISTERED`), with the number of the patterned
    ones (`FloodWaitError(seconds=30)` → `FLOOD_WAIT_30`); generic classes keep `.message`."""
    cls = type(exc)
    pattern = _PATTERNS.get(cls)
    if pattern is not None:
        captured = next(
            (v for k, v in vars(exc).items() if k != "code" and isinstance(v, int)), None
        )
        if captured is not None:
            return pattern.replace("(\\d+)", str(captured))
    if cls.__module__.endswith("rpcerrorlist"):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Error")).upper()
    return str(getattr(exc, "message", "") or cls.__name__)


# Telethon's error classes → the domain error they become (first match wins: the duplicated
# key before the other dead sessions).
_TRANSLATIONS: tuple[
    tuple[type[Exception] | tuple[type[Exception], ...], type[tg.TelegramError]], ...
] = (
    (errors.PeerFloodError, tg.PeerFlood),
    (errors.AuthKeyDuplicatedError, tg.AuthKeyDuplicated),
    (_UNAUTHORIZED, tg.AccountUnauthorized),
    (_BANNED, tg.AccountBanned),
    (errors.SessionPasswordNeededError, tg.PasswordNeeded),
    (errors.PasswordHashInvalidError, tg.WrongPassword),
    ((errors.PhoneCodeInvalidError, errors.PhoneCodeEmptyError), tg.WrongCode),
    (errors.PhoneCodeExpiredError, tg.CodeExpired),
    (errors.PhoneNumberInvalidError, tg.PhoneInvalid),
    (errors.PhoneNumberUnoccupiedError, tg.PhoneNotRegistered),
    # core.telegram.org/method/auth.sendCode: PHONE_NUMBER_FLOOD (400) "You asked for the
    # code too many times", PHONE_PASSWORD_FLOOD (406) "You have tried logging in too many
    # times".
    (errors.PhoneNumberFloodError, tg.PhoneFlood),
    (errors.PhonePasswordFloodError, tg.PasswordFlood),
)


def translate(exc: BaseException) -> BaseException:
    """The domain error for a Telethon error; other exceptions pass through unchanged."""
    rpc = rpc_name(exc)
    if isinstance(exc, (errors.FloodWaitError, errors.FloodPremiumWaitError)):
        # FLOOD_PREMIUM_WAIT_X is a wait like FLOOD_WAIT_X (420), not a FloodWaitError subclass.
        return tg.FloodWait(int(exc.seconds), rpc)
    for telethon_errors, domain_error in _TRANSLATIONS:
        if isinstance(exc, telethon_errors):
            return domain_error(rpc)
    if isinstance(exc, errors.RPCError):
        return tg.TelegramError(rpc)
    return exc


@contextlib.contextmanager
def translated() -> Any:
    try:
        yield
    except (errors.RPCError, errors.FloodWaitError) as exc:
        raise translate(exc) from exc


# --- reading chats -------------------------------------------------------------------------
# Errors that say something about the chat being read rather than about the account.
_NOT_FOUND = (errors.UsernameNotOccupiedError, errors.UsernameInvalidError)
_NO_ACCESS = (
    errors.ChannelPrivateError,
    errors.ChannelInvalidError,
    errors.ChatAdminRequiredError,
    errors.ChatForbiddenError,
    errors.ChatIdInvalidError,
    errors.UserBannedInChannelError,
    errors.PeerIdInvalidError,
)


@contextlib.contextmanager
def reading_chat() -> Any:
    """Like `translated()`, with the errors of reading a chat mapped to `tg.SourceError`s."""
    try:
        yield
    except errors.RPCError as exc:
        if isinstance(exc, _NOT_FOUND):
            raise tg.SourceNotFound(rpc_name(exc)) from exc
        if isinstance(exc, _NO_ACCESS):
            raise tg.NoAccess(rpc_name(exc)) from exc
        raise translate(exc) from exc
