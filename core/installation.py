"""What admins see of the installation and the values they change at run time.

The maximum invite limits live here: admins store them in `installation_settings`, and
every process that needs limits (workers each pass, the campaign service on each report or
pre-flight) reads them from there, so a change applies without a restart. The effective
limits are the configured ones (settings, or a campaign's own) capped by the maximums:
daily and lifetime caps never above them, pauses and rest times never below them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from core.errors import InvalidInput
from core.limits import LIMIT_CEILING, InviteLimits

LIMITS_KEY = "invite_limits_max"
LIMIT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(InviteLimits))
# Far above anything sane for Telegram; keeps a typo from storing an absurd number.
_ASSIGNMENT = re.compile(r"^([a-z_]+)=(\S+)$")


class InstallationStore(Protocol):
    async def get_installation_setting(self, key: str) -> dict[str, Any] | None: ...

    async def put_installation_setting(
        self, key: str, value: dict[str, Any], user_id: int | None
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class WorkerBeat:
    """A worker process that announced itself in the last few heartbeats."""

    worker: str
    started_at: str
    beat_at: str


@dataclass(frozen=True, slots=True)
class InstallationCounts:
    """Counted by storage in one go; `stats` adds the live workers."""

    users: int
    admins: int
    blocked: int
    workspaces: int
    accounts: dict[str, int]  # by status
    invites_today: dict[str, int]  # by outcome, UTC day
    parse_tasks: dict[str, int]  # queued / running
    campaigns: dict[str, int]  # scheduled / running / waiting


@dataclass(frozen=True, slots=True)
class InstallationStats:
    counts: InstallationCounts
    workers: list[WorkerBeat]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor_user_id: int | None
    actor_username: str | None
    action: str
    workspace_id: int | None
    details: dict[str, Any]
    ip: str | None
    trace_id: str | None


@dataclass(frozen=True, slots=True)
class LimitsView:
    """What an admin needs to decide: the settings, the stored maximums, the result."""

    configured: InviteLimits
    maximum: InviteLimits
    effective: InviteLimits
    stored: bool  # False: no maximum was ever set, the settings are the maximum


def under_maximum(limits: InviteLimits, maximum: InviteLimits | None) -> InviteLimits:
    return limits.capped_by(maximum) if maximum is not None else limits


def maximum_from(value: Mapping[str, Any] | None) -> InviteLimits | None:
    """The stored maximums; unknown keys (from a newer version) are ignored."""
    if not value:
        return None
    return InviteLimits(**{k: int(v) for k, v in value.items() if k in LIMIT_FIELDS})


async def stored_maximum(store: InstallationStore) -> InviteLimits | None:
    return maximum_from(await store.get_installation_setting(LIMITS_KEY))


def limits_under(configured: InviteLimits, stored: Mapping[str, Any] | None) -> InviteLimits:
    """`configured` under the maximums as stored (`LIMITS_KEY`'s value, read by the caller)."""
    return under_maximum(configured, maximum_from(stored))


async def effective_limits(store: InstallationStore, configured: InviteLimits) -> InviteLimits:
    """`configured` under the maximums stored right now."""
    return limits_under(configured, await store.get_installation_setting(LIMITS_KEY))


def parse_assignments(text: str) -> dict[str, int]:
    """`daily_per_account=20 daily_per_chat=10` → changes; any defect names the word at fault."""
    changes: dict[str, int] = {}
    words = text.replace(",", " ").split()
    if not words:
        raise InvalidInput("limits", field="limits", problem="limits_empty")
    for word in words:
        match = _ASSIGNMENT.match(word.lower())
        if match is None:
            raise InvalidInput("limits", field="limits", problem="limits_syntax", word=word)
        name, raw = match.groups()
        if not (raw.isascii() and raw.isdigit()):
            raise InvalidInput(name, field=name, problem="limit_range", low=1, high=LIMIT_CEILING)
        changes[name] = int(raw)
    return changes


def merged_maximum(current: InviteLimits, changes: Mapping[str, int]) -> InviteLimits:
    """The maximums after `changes`; refuses unknown names, out-of-range values and a
    pause range that ends before it starts."""
    if not changes:
        raise InvalidInput("limits", field="limits", problem="limits_empty")
    for name, value in changes.items():
        if name not in LIMIT_FIELDS:
            raise InvalidInput(
                name, field=name, problem="limit_unknown", names=", ".join(LIMIT_FIELDS)
            )
        low = 0 if name == "flood_buffer_s" else 1
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not low <= value <= LIMIT_CEILING
        ):
            raise InvalidInput(name, field=name, problem="limit_range", low=low, high=LIMIT_CEILING)
    merged = asdict(current) | dict(changes)
    if merged["pause_max_s"] < merged["pause_min_s"]:
        raise InvalidInput("pause_max_s", field="pause_max_s", problem="limit_pause_order")
    return InviteLimits(**merged)
