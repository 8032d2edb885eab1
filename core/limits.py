"""Invite limits in one place (DESIGN §7): what an account may still do, and when.

The "day" is the UTC calendar day: counters reset at 00:00 UTC for every account, so two
workers on machines in different time zones agree, and a report for "today" means the
same thing to everyone. Values come from settings (§9a) and are capped by the
installation's maximums that admins set; an owner may only lower them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import InvalidInput
from core.settings import Settings


@dataclass(frozen=True, slots=True)
class InviteLimits:
    daily_per_account: int = 30
    daily_per_chat: int = 15  # per account per target chat
    lifetime_per_chat: int = 200  # per account per target chat, for ever
    # Per target chat per day, all of a workspace's accounts together: twenty accounts at 15
    # a day each would otherwise put 300 strangers a day into one community.
    daily_per_target: int = 60
    pause_min_s: int = 600
    pause_max_s: int = 900
    flood_buffer_s: int = 60
    peer_flood_park_s: int = 86_400

    def __post_init__(self) -> None:
        for name in (
            "daily_per_account",
            "daily_per_chat",
            "lifetime_per_chat",
            "daily_per_target",
            "pause_min_s",
        ):
            if getattr(self, name) < 1:
                raise InvalidInput(name, field=name, problem="limit_at_least_1")
        if self.pause_max_s < self.pause_min_s:
            raise InvalidInput("pause", field="pause_max_s", problem="pause_order")

    def capped_by(self, maximum: InviteLimits) -> InviteLimits:
        """These limits, never above the installation's maximums (pauses never below)."""
        return InviteLimits(
            daily_per_account=min(self.daily_per_account, maximum.daily_per_account),
            daily_per_chat=min(self.daily_per_chat, maximum.daily_per_chat),
            lifetime_per_chat=min(self.lifetime_per_chat, maximum.lifetime_per_chat),
            daily_per_target=min(self.daily_per_target, maximum.daily_per_target),
            pause_min_s=max(self.pause_min_s, maximum.pause_min_s),
            pause_max_s=max(self.pause_max_s, maximum.pause_max_s, maximum.pause_min_s),
            flood_buffer_s=max(self.flood_buffer_s, maximum.flood_buffer_s),
            peer_flood_park_s=max(self.peer_flood_park_s, maximum.peer_flood_park_s),
        )


def limits_from(settings: Settings) -> InviteLimits:
    """The installation's limits as configured (DESIGN §9a)."""
    return InviteLimits(
        daily_per_account=settings.invite_daily_per_account,
        daily_per_chat=settings.invite_daily_per_chat,
        lifetime_per_chat=settings.invite_lifetime_per_chat,
        daily_per_target=settings.invite_daily_per_target,
        pause_min_s=settings.invite_pause_min_s,
        pause_max_s=settings.invite_pause_max_s,
        flood_buffer_s=settings.flood_buffer_s,
        peer_flood_park_s=settings.peer_flood_park_s,
    )


# The largest value any limit may take, for admins' maximums and campaigns alike: a pause
# longer than this is a typo, and one far longer would not fit a timedelta.
LIMIT_CEILING = 10_000_000

# What a campaign may set for itself (POST /api/v1/campaigns "limits", the bot's wizard).
CAMPAIGN_LIMIT_FIELDS = (
    "daily_per_account",
    "daily_per_chat",
    "daily_per_target",
    "pause_min_s",
    "pause_max_s",
)
_PAUSES = ("pause_min_s", "pause_max_s")


def campaign_limits(own: Mapping[str, int] | None, default: InviteLimits) -> InviteLimits:
    """A campaign's limits: its own where it set them, the installation's elsewhere, and
    never looser than the installation's (counts no higher, pauses no shorter); all of it
    still goes under the admins' maximums (`core.installation.under_maximum`)."""
    if not own:
        return default
    known = {k: int(v) for k, v in own.items() if k in CAMPAIGN_LIMIT_FIELDS}
    merged = replace(default, **known)
    if merged.pause_max_s < merged.pause_min_s:  # a stored pair from older rules: keep the range
        merged = replace(merged, pause_max_s=merged.pause_min_s)
    return merged.capped_by(default)


def check_campaign_limits(raw: Mapping[str, Any], installation: InviteLimits) -> dict[str, int]:
    """A campaign's own limits as asked (each optional), or `InvalidInput` naming the first
    one at fault: unknown, not a whole number from 1 to LIMIT_CEILING, looser than the installation's
    (a count above it, a pause below it), or a pause range that ends before it starts."""
    chosen: dict[str, int] = {}
    for name, value in raw.items():
        if value is None:
            continue
        if name not in CAMPAIGN_LIMIT_FIELDS:
            raise InvalidInput(
                name, field=name, problem="limit_unknown", names=", ".join(CAMPAIGN_LIMIT_FIELDS)
            )
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LIMIT_CEILING:
            raise InvalidInput(name, field=name, problem="limit_range", low=1, high=LIMIT_CEILING)
        allowed = getattr(installation, name)
        if name in _PAUSES and value < allowed:
            raise InvalidInput(
                name, field=name, problem="campaign_pause_short", name=name, low=allowed
            )
        if name not in _PAUSES and value > allowed:
            raise InvalidInput(
                name, field=name, problem="campaign_limit_high", name=name, high=allowed
            )
        chosen[name] = value
    low = chosen.get("pause_min_s", installation.pause_min_s)
    high = chosen.get("pause_max_s", max(installation.pause_max_s, low))
    if high < low:
        raise InvalidInput("pause_max_s", field="pause_max_s", problem="limit_pause_order")
    if "pause_min_s" in chosen and "pause_max_s" not in chosen and high != installation.pause_max_s:
        chosen["pause_max_s"] = high  # a longer shortest pause lengthens the longest too
    return chosen


@dataclass(frozen=True, slots=True)
class Usage:
    """What one account has done, as counted from the invite journal."""

    today: int  # invites sent today (UTC) into any chat
    today_in_chat: int  # invites sent today into the target chat
    ever_in_chat: int  # invites ever sent into the target chat
    last_invite_at: datetime | None
    today_in_target: int = (
        0  # today's invites into the target chat by all of the workspace's accounts
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str | None = (
        None  # daily_cap | chat_daily_cap | target_daily_cap | chat_lifetime_cap | pause
    )
    not_before: datetime | None = None  # when asking again makes sense; None: never (this chat)


def day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def next_day(now: datetime) -> datetime:
    return day_start(now) + timedelta(days=1)


def may_invite(limits: InviteLimits, usage: Usage, now: datetime, pause_s: int) -> Verdict:
    """May this account send one more invite into this chat now?

    `pause_s` is the pause drawn for this account after its last invite (see `draw_pause`).
    """
    if usage.ever_in_chat >= limits.lifetime_per_chat:
        return Verdict(False, "chat_lifetime_cap", None)
    if usage.today >= limits.daily_per_account:
        return Verdict(False, "daily_cap", next_day(now))
    if usage.today_in_chat >= limits.daily_per_chat:
        return Verdict(False, "chat_daily_cap", next_day(now))
    if usage.today_in_target >= limits.daily_per_target:
        return Verdict(False, "target_daily_cap", next_day(now))
    if usage.last_invite_at is not None:
        ready = usage.last_invite_at + timedelta(seconds=pause_s)
        if ready > now:
            return Verdict(False, "pause", ready)
    return Verdict(True)


def draw_pause(limits: InviteLimits, rng: random.Random | None = None) -> int:
    """A random pause between two invites of one account, in seconds."""
    return (rng or random.SystemRandom()).randint(limits.pause_min_s, limits.pause_max_s)


def rest_after_flood(now: datetime, wait_s: int, buffer_s: int) -> datetime:
    """FloodWait of N s: the account rests N s plus a buffer (any work: invites, reading,
    checks)."""
    return now + timedelta(seconds=wait_s + buffer_s)


def flood_cooldown_until(now: datetime, wait_s: int, limits: InviteLimits) -> datetime:
    """FloodWait of N s during inviting: the rest, with the limits' buffer; no quota is spent."""
    return rest_after_flood(now, wait_s, limits.flood_buffer_s)


def peer_flood_park_until(now: datetime, limits: InviteLimits) -> datetime:
    return now + timedelta(seconds=limits.peer_flood_park_s)


def days_to_finish(targets: int, accounts: int, limits: InviteLimits) -> int | None:
    """Capacity estimate for a pre-flight: eligible accounts × daily caps → days.
    None when no account is eligible. Each account is also bounded by the lifetime cap."""
    if targets <= 0:
        return 0
    if accounts <= 0:
        return None
    if targets > accounts * limits.lifetime_per_chat:
        return None  # cannot finish with these accounts at all
    per_day = min(
        accounts * min(limits.daily_per_account, limits.daily_per_chat), limits.daily_per_target
    )
    return -(-targets // per_day)
