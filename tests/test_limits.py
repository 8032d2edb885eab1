"""The invite limits policy and the outcome taxonomy."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidInput
from core.i18n import CATALOG
from core.limits import (
    InviteLimits,
    Usage,
    day_start,
    days_to_finish,
    draw_pause,
    flood_cooldown_until,
    may_invite,
    next_day,
    peer_flood_park_until,
)
from core.outcomes import Reason, reason_for_rpc

NOW = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
L = InviteLimits()


def _usage(today: int = 0, chat: int = 0, ever: int = 0, last: datetime | None = None) -> Usage:
    return Usage(today=today, today_in_chat=chat, ever_in_chat=ever, last_invite_at=last)


def test_each_cap_in_turn() -> None:
    assert may_invite(L, _usage(29, 14, 199), NOW, 600).allowed
    thirty_first = may_invite(L, _usage(30, 0, 0), NOW, 600)
    assert (thirty_first.allowed, thirty_first.reason) == (False, "daily_cap")
    assert thirty_first.not_before == datetime(2026, 11, 24, tzinfo=UTC)
    sixteenth = may_invite(L, _usage(15, 15, 15), NOW, 600)
    assert (sixteenth.allowed, sixteenth.reason) == (False, "chat_daily_cap")
    final = may_invite(L, _usage(0, 0, 200), NOW, 600)
    assert (final.allowed, final.reason, final.not_before) == (False, "chat_lifetime_cap", None)


def test_pause_between_invites() -> None:
    wait = may_invite(L, _usage(1, 1, 1, NOW - timedelta(seconds=599)), NOW, 600)
    assert (wait.allowed, wait.reason, wait.not_before) == (
        False,
        "pause",
        NOW + timedelta(seconds=1),
    )
    assert may_invite(L, _usage(1, 1, 1, NOW - timedelta(seconds=600)), NOW, 600).allowed
    rng = random.Random(1)
    pauses = {draw_pause(L, rng) for _ in range(500)}
    assert min(pauses) >= 600 and max(pauses) <= 900 and len(pauses) > 100


def test_day_is_utc() -> None:
    moscow = datetime(2026, 11, 24, 1, 30, tzinfo=UTC).astimezone(tz=None)
    assert day_start(moscow) == datetime(2026, 11, 24, tzinfo=UTC)
    assert next_day(NOW) == datetime(2026, 11, 24, tzinfo=UTC)


def test_flood_and_park() -> None:
    assert flood_cooldown_until(NOW, 30, L) == NOW + timedelta(seconds=90)
    assert peer_flood_park_until(NOW, L) == NOW + timedelta(hours=24)


def test_owner_limits_never_exceed_the_installation() -> None:
    owner = InviteLimits(daily_per_account=100, daily_per_chat=10, pause_min_s=60, pause_max_s=120)
    capped = owner.capped_by(InviteLimits())
    assert (capped.daily_per_account, capped.daily_per_chat) == (30, 10)
    assert capped.pause_min_s == 600 and capped.pause_max_s >= 600
    with pytest.raises(InvalidInput):
        InviteLimits(pause_min_s=900, pause_max_s=600)
    with pytest.raises(InvalidInput):
        InviteLimits(daily_per_account=0)


def test_capacity_estimate() -> None:
    assert days_to_finish(0, 3, L) == 0
    assert days_to_finish(45, 3, L) == 1
    assert days_to_finish(46, 3, L) == 2
    assert days_to_finish(10, 0, L) is None
    assert days_to_finish(601, 3, L) is None  # beyond 3 × 200 for ever


def test_reasons() -> None:
    assert reason_for_rpc("USER_PRIVACY_RESTRICTED") is Reason.PRIVACY_RESTRICTED
    assert reason_for_rpc("FLOOD_WAIT_30") is Reason.FLOOD
    assert reason_for_rpc("SOMETHING_NEW") is Reason.UNKNOWN
    for reason in Reason:
        for lang in ("ru", "en"):
            assert f"reason.{reason.value}" in CATALOG[lang]
