"""Domain errors shared by the bot, the API and the workers.

Each error carries a stable machine code; edges map it to a reply (bot) or an HTTP status
(API). The human sentence comes from the i18n catalog under the same code.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "error"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.code)
        self.details = details


class NotFound(DomainError):
    """The object does not exist or belongs to another workspace (never a 403)."""

    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"


class InvalidCode(DomainError):
    """Unknown user, wrong, expired, used-up or locked code: indistinguishable on purpose."""

    code = "invalid_code"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, retry_after: int, message: str = "") -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A store the rule cannot be checked without (Redis) does not answer: refuse and say
    when to try again, never guess (DESIGN §4: "Redis down → 503, never a token")."""

    code = "unavailable"

    def __init__(self, retry_after: int = 30, message: str = "") -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    """Only for acting on one's own workspace without the needed role."""

    code = "forbidden"


class Busy(DomainError):
    """The object is in use by another process right now; trying again later may work."""

    code = "busy"


class NoAccounts(DomainError):
    """The work needs a linked account of the workspace that may work now, and there is none."""

    code = "no_accounts"
