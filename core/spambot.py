"""Telegram's own word on an account's limits, read without Telethon (DESIGN §5).

The health check (`workers/health.py`) asks two read-only questions of a linked account and
the rules for reading the answers live here:

- **@SpamBot.** The account sends `/start` to @SpamBot and reads its reply. Telegram points
  limited accounts there itself: its spam FAQ says moderators may limit an account
  "temporarily", the privacy policy says an account "may be restricted from contacting
  strangers - temporarily or permanently. You can submit an appeal using @Spambot", and
  Telegram Desktop links PEER_FLOOD and USER_BANNED_IN_CHANNEL to its `spambot` link.

  **No official list of SpamBot's replies exists.** The wording below is what public code
  that reads the replies matches (third-party code in public repositories): "Good news, no
  limits are currently applied to your account" and "Ваш аккаунт свободен от каких-либо
  ограничений." (free; ErdemBey1/SiriUserBot spaminfo.py, Codwizer/ReModules
  CheckSpamBan.py, a Telethon "AccountDeterminer"); "...your account is now limited until
  <date>" and "Ваш аккаунт временно ограничен:" (limited for a while), "Unfortunately,
  your account is now limited." (limited with no end), and "Your account
  was blocked for violations of the Telegram Terms of Service..." (AccountDeterminer and
  other classifiers). The exact "limited until" sentence and its date format were not
  confirmed from a real reply; public parsers cut the date as "until (.*?UTC)", so dates
  like "20 Jun 2026, 11:49 UTC" are read, and a few other common shapes. Replies come in the
  account's language. Anything else is `UNKNOWN`: nothing changes and the text is logged,
  so a new wording shows up in the logs instead of being guessed.

- **Freezing.** core.telegram.org/api/auth, "Frozen accounts": "When receiving a
  FROZEN_METHOD_INVALID, clients should invoke help.getAppConfig to obtain the following
  newly populated fields: freeze_since_date - If set and non-zero, indicates when was the
  account frozen (integer, unixtime); freeze_until_date - If set and non-zero, indicates
  when will the account be deleted, unless an appeal is submitted and accepted to the
  freeze_appeal_url; freeze_appeal_url - A URL that the user can open to submit an appeal".
  tdlib (UserManager.cpp) takes `freeze_since_date > 0` as "frozen".
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.dto import AccountDTO, AccountStatus

SPAMBOT_USERNAME = "SpamBot"
SPAMBOT_EVERY = timedelta(hours=24)
"""At most one question to @SpamBot per account per day: it is a conversation with
Telegram's anti-spam team, not a status endpoint, and the limits it reports last days."""

SPAMBOT_LIMITED = "spambot_limited"
"""status_reason of an account @SpamBot called limited (the product's word, lower case, as
Telegram did not name an error)."""
FROZEN_REASON = "FROZEN_METHOD_INVALID"
FROZEN_UNTIL_PREFIX = "frozen_until:"
"""status_reason `frozen_until:<date>`: Telegram's `freeze_until_date`, the day the account is
deleted unless an appeal is accepted."""


class SpamVerdict(enum.StrEnum):
    FREE = "free"
    LIMITED = "limited"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SpamReading:
    verdict: SpamVerdict
    until: datetime | None = None
    """LIMITED: the end SpamBot named (UTC); None when it named none (or none could be read)."""


_FREE = (
    re.compile(r"no limits are currently applied to your account", re.IGNORECASE),
    re.compile(r"свободен от каких-либо ограничений", re.IGNORECASE),
)
_LIMITED = (
    re.compile(r"your account is now limited", re.IGNORECASE),
    re.compile(r"your account was blocked", re.IGNORECASE),
    re.compile(r"ваш аккаунт (?:временно )?ограничен", re.IGNORECASE),
)
_UNTIL = re.compile(r"(?:\buntil\b|\bдо\b)\s+(?P<date>[^\n]{4,60})", re.IGNORECASE)

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6,
    "июл": 7, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
}  # fmt: skip
_MONTH = r"(?P<month>[^\W\d_]{3,9})\.?"
_TIME = r"(?:,?\s*(?:в\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
_DATE_SHAPES = (
    re.compile(r"^(?P<day>\d{1,2})\s+" + _MONTH + r",?\s+(?P<year>\d{4})(?:\s*г\.?)?" + _TIME),
    re.compile(r"^" + _MONTH + r"\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})" + _TIME),
    re.compile(
        r"^(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})(?:[T\s](?P<hour>\d{2}):(?P<minute>\d{2}))?"
    ),
    re.compile(r"^(?P<day>\d{1,2})\.(?P<mon>\d{2})\.(?P<year>\d{4})" + _TIME),
)


def parse_limit_date(text: str) -> datetime | None:
    """The date at the start of `text` ("20 Jun 2026, 11:49 UTC", "3 October 2026",
    "Jan 12, 2027", "2027-01-12", "30 сентября 2036, 12:45 UTC"), in UTC; None if unreadable.

    SpamBot's dates carry "UTC" in the replies public parsers read; a date without a time is
    taken as that day's start, which only matters for display: a restricted account does not
    work again on a date, only on SpamBot's word (`can_work`)."""
    text = text.strip()
    for shape in _DATE_SHAPES:
        found = shape.match(text)
        if found is None:
            continue
        parts = found.groupdict()
        month = (
            int(parts["mon"])
            if parts.get("mon")
            else _MONTHS.get((parts["month"] or "")[:3].lower())
        )
        if month is None:
            continue
        try:
            return datetime(
                int(parts["year"]),
                month,
                int(parts["day"]),
                int(parts["hour"] or 0),
                int(parts["minute"] or 0),
                tzinfo=UTC,
            )
        except ValueError:
            return None
    return None


def read_spambot_reply(text: str | None) -> SpamReading:
    """What @SpamBot's reply to /start says about the account (see the module docstring)."""
    if not text:
        return SpamReading(SpamVerdict.UNKNOWN)
    if any(p.search(text) for p in _FREE):
        return SpamReading(SpamVerdict.FREE)
    if any(p.search(text) for p in _LIMITED):
        dates = (parse_limit_date(m["date"]) for m in _UNTIL.finditer(text))
        return SpamReading(SpamVerdict.LIMITED, next((d for d in dates if d is not None), None))
    return SpamReading(SpamVerdict.UNKNOWN)


@dataclass(frozen=True, slots=True)
class Freeze:
    """An account frozen by Telegram, as help.getAppConfig describes it."""

    since: datetime | None
    until: datetime | None
    """When Telegram deletes the account unless an appeal is accepted."""
    appeal_url: str | None


def _unixtime(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def freeze_from_app_config(config: Mapping[str, Any]) -> Freeze | None:
    """The freeze that help.getAppConfig's fields describe; None when the account is not
    frozen ("If set and non-zero", for either date: a date alone is enough to stop)."""
    since = _unixtime(config.get("freeze_since_date"))
    until = _unixtime(config.get("freeze_until_date"))
    if since is None and until is None:
        return None
    url = config.get("freeze_appeal_url")
    return Freeze(since, until, url if isinstance(url, str) and url else None)


def frozen_reason(freeze: Freeze) -> str:
    if freeze.until is None:
        return FROZEN_REASON
    return FROZEN_UNTIL_PREFIX + freeze.until.strftime("%Y-%m-%dT%H:%MZ")


def frozen_deadline(reason: str | None) -> datetime | None:
    """The deletion date kept in a frozen account's `frozen_until:<date>` reason."""
    if not reason or not reason.startswith(FROZEN_UNTIL_PREFIX):
        return None
    try:
        return datetime.strptime(
            reason.removeprefix(FROZEN_UNTIL_PREFIX), "%Y-%m-%dT%H:%MZ"
        ).replace(tzinfo=UTC)
    except ValueError:
        return None


def waits_for_spambot(account: AccountDTO, now: datetime) -> bool:
    """Only @SpamBot ends this status: `restricted`, or `parked` after its rest."""
    if account.status is AccountStatus.RESTRICTED:
        return True
    return account.status is AccountStatus.PARKED and (
        account.cooldown_until is None or account.cooldown_until <= now
    )


def spambot_due(account: AccountDTO, now: datetime) -> bool:
    """Whether @SpamBot is asked about this account now: once its rest is over, then at most
    once a day (`last_checked_at` is when the health check last looked at it)."""
    if not waits_for_spambot(account, now):
        return False
    last_checked_at = account.last_checked_at
    if last_checked_at is None or now - last_checked_at >= SPAMBOT_EVERY:
        return True
    # A parked account is asked as soon as its rest ends, whatever was checked during it.
    rest_end = account.cooldown_until if account.status is AccountStatus.PARKED else None
    return rest_end is not None and last_checked_at < rest_end


StatusChange = tuple[AccountStatus, str | None, datetime | None]


def status_after_checks(
    account: AccountDTO,
    freeze: Freeze | None,
    spam: SpamReading | None,
    *,
    frozen_error: str | None = None,
) -> StatusChange | None:
    """The status the health check's answers give the account, with reason and until
    (None: no change). `frozen_error`: the FROZEN_* error Telegram answered the check with
    (a frozen account keeps the reason it has, which may name its deletion date).

    A freeze wins over everything; a frozen account without freeze fields is active again.
    @SpamBot's FREE ends `parked` and `restricted`; LIMITED makes the account `restricted`
    until the date it named (its reason stays when it was restricted already: the error that
    restricted it says more than SpamBot's confirmation); UNKNOWN changes nothing.
    """
    if freeze is not None:
        return AccountStatus.FROZEN, frozen_reason(freeze), None
    if frozen_error:
        keep = account.status is AccountStatus.FROZEN and account.status_reason
        return AccountStatus.FROZEN, (account.status_reason if keep else frozen_error), None
    if account.status is AccountStatus.FROZEN:
        return AccountStatus.ACTIVE, None, None
    if spam is None or account.status not in (AccountStatus.PARKED, AccountStatus.RESTRICTED):
        return None
    if spam.verdict is SpamVerdict.FREE:
        return AccountStatus.ACTIVE, None, None
    if spam.verdict is SpamVerdict.LIMITED:
        keep = account.status is AccountStatus.RESTRICTED and account.status_reason
        return (
            AccountStatus.RESTRICTED,
            (account.status_reason if keep else SPAMBOT_LIMITED),
            spam.until,
        )
    return None
