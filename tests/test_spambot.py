"""Reading @SpamBot's replies and help.getAppConfig's freeze fields (core/spambot.py).

The wordings are the ones public code matches (see the module docstring); no official list
of SpamBot's replies exists, so anything else must stay UNKNOWN rather than be guessed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.dto import AccountDTO, AccountStatus
from core.spambot import (
    SPAMBOT_LIMITED,
    Freeze,
    SpamReading,
    SpamVerdict,
    freeze_from_app_config,
    parse_limit_date,
    read_spambot_reply,
    spambot_due,
    status_after_checks,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "Good news, no limits are currently applied to your account. You’re free as a bird!",
        "Good news, no limits are currently applied to your account. You're free as a bird!",
        "Ваш аккаунт свободен от каких-либо ограничений.",
    ],
)
def test_free(text: str) -> None:
    assert read_spambot_reply(text) == SpamReading(SpamVerdict.FREE)


@pytest.mark.parametrize(
    ("text", "until"),
    [
        (
            (
                "I’m afraid some Telegram users found your messages annoying and forwarded them to our team. "
                "The moderators have confirmed the report and your account is now limited until "
                "20 Jun 2026, 11:49 UTC."
            ),
            datetime(2026, 6, 20, 11, 49, tzinfo=UTC),
        ),
        ("Your account is now limited until 3 October 2026.", datetime(2026, 10, 3, tzinfo=UTC)),
        (
            "your account is now limited until Jan 12, 2027 09:05 UTC",
            datetime(2027, 1, 12, 9, 5, tzinfo=UTC),
        ),
        ("your account is now limited until 2027-01-12.", datetime(2027, 1, 12, tzinfo=UTC)),
        (
            "Ваш аккаунт временно ограничен: ограничения будут сняты до 30 сентября 2036, 12:45 UTC.",
            datetime(2036, 9, 30, 12, 45, tzinfo=UTC),
        ),
        ("Ваш аккаунт ограничен до 1 мая 2027 г.", datetime(2027, 5, 1, tzinfo=UTC)),
    ],
)
def test_limited_until_a_date(text: str, until: datetime) -> None:
    assert read_spambot_reply(text) == SpamReading(SpamVerdict.LIMITED, until)


@pytest.mark.parametrize(
    "text",
    [
        (
            "I’m afraid some Telegram users found your messages annoying and forwarded them to our team. "
            "Unfortunately, your account is now limited."
        ),
        (
            "Your account was blocked for violations of the Telegram Terms of Service based on user "
            "reports confirmed by our moderators."
        ),
        "Ваш аккаунт временно ограничен:",
        # a date that is not a date: limited, with no end read
        "your account is now limited until 31 Feb 2027, 10:00 UTC.",
        "your account is now limited until further notice.",
    ],
)
def test_limited_without_a_readable_end(text: str) -> None:
    assert read_spambot_reply(text) == SpamReading(SpamVerdict.LIMITED, None)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        # several projects read this one as a warning about the number's country, not a limit
        (
            "Unfortunately, some phone numbers may trigger a harsh response from our anti-spam systems. "
            "If you think this is the case with you, you can submit a complaint to our moderators or "
            "subscribe to Telegram Premium to get less strict limits."
        ),
        "Hello! Choose an option below.",
    ],
)
def test_anything_else_is_unknown(text: str | None) -> None:
    assert read_spambot_reply(text) == SpamReading(SpamVerdict.UNKNOWN)


def test_dates() -> None:
    assert parse_limit_date("4 Sept 2026") == datetime(2026, 9, 4, tzinfo=UTC)
    assert parse_limit_date("07.03.2027, 08:30") == datetime(2027, 3, 7, 8, 30, tzinfo=UTC)
    assert parse_limit_date("30 Smarch 2026") is None
    assert parse_limit_date("soon") is None


def test_freeze_fields() -> None:
    since, until = 1_780_000_000, 1_790_000_000
    freeze = freeze_from_app_config(
        {
            "freeze_since_date": since,
            "freeze_until_date": float(until),
            "freeze_appeal_url": "https://t.me/x",
        }
    )
    assert freeze == Freeze(
        datetime.fromtimestamp(since, UTC), datetime.fromtimestamp(until, UTC), "https://t.me/x"
    )
    # "If set and non-zero": absent, zero and junk mean not frozen
    assert freeze_from_app_config({}) is None
    assert freeze_from_app_config({"freeze_since_date": 0, "freeze_until_date": 0}) is None
    assert (
        freeze_from_app_config({"freeze_since_date": "yesterday", "freeze_until_date": True})
        is None
    )
    assert freeze_from_app_config({"freeze_since_date": since}) == Freeze(
        datetime.fromtimestamp(since, UTC), None, None
    )


def _account(
    status: AccountStatus,
    *,
    reason: str | None = None,
    until: datetime | None = None,
    checked: datetime | None = None,
) -> AccountDTO:
    return AccountDTO(
        id=1,
        workspace_id=1,
        tg_user_id=10,
        username="a",
        first_name="A",
        phone_masked=None,
        status=status,
        status_reason=reason,
        cooldown_until=until,
        created_at=NOW,
        last_checked_at=checked,
    )


def test_spambot_is_asked_after_the_rest_then_once_a_day() -> None:
    parked = _account(
        AccountStatus.PARKED,
        reason="PEER_FLOOD",
        until=NOW - timedelta(minutes=5),
        checked=NOW - timedelta(hours=1),
    )
    assert spambot_due(parked, NOW)  # checked during the rest only
    assert not spambot_due(replace(parked, last_checked_at=NOW - timedelta(minutes=1)), NOW)
    assert not spambot_due(replace(parked, cooldown_until=NOW + timedelta(hours=3)), NOW)  # resting
    restricted = _account(AccountStatus.RESTRICTED, checked=NOW - timedelta(hours=23))
    assert not spambot_due(restricted, NOW)
    assert spambot_due(replace(restricted, last_checked_at=NOW - timedelta(hours=24)), NOW)
    assert spambot_due(replace(restricted, last_checked_at=None), NOW)
    for status in (
        AccountStatus.ACTIVE,
        AccountStatus.COOLDOWN,
        AccountStatus.FROZEN,
        AccountStatus.DISABLED,
    ):
        assert not spambot_due(_account(status), NOW)


def test_status_after_checks() -> None:
    limit = SpamReading(SpamVerdict.LIMITED, NOW + timedelta(days=3))
    free = SpamReading(SpamVerdict.FREE)
    unknown = SpamReading(SpamVerdict.UNKNOWN)
    parked = _account(AccountStatus.PARKED, reason="PEER_FLOOD")
    restricted = _account(AccountStatus.RESTRICTED, reason="USER_BANNED_IN_CHANNEL")
    assert status_after_checks(parked, None, free) == (AccountStatus.ACTIVE, None, None)
    assert status_after_checks(parked, None, limit) == (
        AccountStatus.RESTRICTED,
        SPAMBOT_LIMITED,
        limit.until,
    )
    assert status_after_checks(restricted, None, limit) == (
        AccountStatus.RESTRICTED,
        "USER_BANNED_IN_CHANNEL",
        limit.until,
    )
    assert status_after_checks(restricted, None, free) == (AccountStatus.ACTIVE, None, None)
    assert status_after_checks(restricted, None, unknown) is None
    assert status_after_checks(parked, None, None) is None
    # SpamBot's word is about parked and restricted accounts only
    assert status_after_checks(_account(AccountStatus.ACTIVE), None, limit) is None

    freeze = Freeze(NOW - timedelta(days=1), datetime(2027, 3, 1, 12, 30, tzinfo=UTC), None)
    assert status_after_checks(restricted, freeze, free) == (
        AccountStatus.FROZEN,
        "frozen_until:2027-03-01T12:30Z",
        None,
    )
    assert status_after_checks(_account(AccountStatus.ACTIVE), Freeze(NOW, None, None), None) == (
        AccountStatus.FROZEN,
        "FROZEN_METHOD_INVALID",
        None,
    )
    assert status_after_checks(
        _account(AccountStatus.ACTIVE), None, None, frozen_error="FROZEN_METHOD_INVALID"
    ) == (AccountStatus.FROZEN, "FROZEN_METHOD_INVALID", None)
    frozen = _account(AccountStatus.FROZEN, reason="frozen_until:2027-03-01T12:30Z")
    assert status_after_checks(frozen, None, None, frozen_error="FROZEN_PARTICIPANT_MISSING") == (
        AccountStatus.FROZEN,
        "frozen_until:2027-03-01T12:30Z",
        None,
    )
    assert status_after_checks(_account(AccountStatus.FROZEN), None, None) == (
        AccountStatus.ACTIVE,
        None,
        None,
    )
