"""RPC errors of the simulated world, with the status codes Telegram gives them.

The world only decides the message ("FLOOD_WAIT_30", "USER_PRIVACY_RESTRICTED"); the code
comes from the error table Telethon ships (generated from Telegram's own list), so a fault
injected through the control API reaches the client with the code the real server would use
and Telethon raises the same exception class it would raise in production.
"""

from __future__ import annotations

import re

from telethon.errors import rpcerrorlist

_DEFAULT_CODE = 400
_WAIT_ERRORS = re.compile(r"(FLOOD_WAIT|FLOOD_PREMIUM_WAIT|SLOWMODE_WAIT)_\d+")
_UNSUPPORTED = re.compile(r".*_MIGRATE_\d+")
"""Data-centre migrations follow from where an account lives (`WorldUser.dc`), never from a
fault: an injected one would send Telethon to a DC for no account."""


class RpcFailure(Exception):
    """An RPC answered with an error instead of a result."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = error_code(message) if code is None else code

    def __repr__(self) -> str:
        return f"RpcFailure({self.code}, {self.message!r})"


def error_code(message: str) -> int:
    if _WAIT_ERRORS.fullmatch(message):
        return 420
    known = rpcerrorlist.rpc_errors_dict.get(message)
    if known is None:
        for pattern, cls in rpcerrorlist.rpc_errors_re:
            if re.fullmatch(pattern, message):
                known = cls
                break
    return int(getattr(known, "code", None) or _DEFAULT_CODE)


def check_injectable(message: str) -> None:
    """Raises ValueError unless `message` can be injected as a fault."""
    if not re.fullmatch(r"[A-Z0-9_]{2,100}", message):
        raise ValueError("error must look like a Telegram RPC error, e.g. FLOOD_WAIT_30")
    if _UNSUPPORTED.fullmatch(message):
        raise ValueError(f"{message}: data-centre migrations are not simulated")
