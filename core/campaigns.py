"""Invite campaigns (DESIGN §7): the rules, written once against plain data.

A campaign invites one audience into one target chat. This module decides which status
changes are allowed, what one attempt's result does to the target and to the workspace's
ledger for that chat, and what the pre-flight tells the owner before the start. It knows
nothing about SQL or Telethon: the workers, the bot and the API call it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.errors import InvalidInput
from core.limits import InviteLimits, days_to_finish
from core.outcomes import (
    ADD_FAILED_TRIES,
    FOLLOW_UP_REASONS,
    UNKNOWN_TRIES,
    Concerns,
    Outcome,
    Reason,
    refusal_of,
)

BROADCAST_ADD_CAP = 200
"""Admins may add people to a broadcast channel only while it has fewer members than this."""


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    # A manager started a campaign larger than APPROVAL_THRESHOLD: it waits for the owner.
    APPROVAL = "approval"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING = "waiting"  # quota spent or outside the active hours; resumes by itself
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (CampaignStatus.DONE, CampaignStatus.CANCELLED)

    @property
    def working(self) -> bool:
        """Whether workers look at the campaign (waiting ones are re-checked, not abandoned)."""
        return self in (CampaignStatus.RUNNING, CampaignStatus.WAITING)


_S = CampaignStatus
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    _S.DRAFT: frozenset({_S.APPROVAL, _S.SCHEDULED, _S.RUNNING, _S.CANCELLED}),
    # Approved: it starts (now or at its time); rejected: a draft again, for the manager to change.
    _S.APPROVAL: frozenset({_S.SCHEDULED, _S.RUNNING, _S.DRAFT, _S.CANCELLED}),
    _S.SCHEDULED: frozenset({_S.RUNNING, _S.PAUSED, _S.CANCELLED}),
    _S.RUNNING: frozenset({_S.PAUSED, _S.WAITING, _S.DONE, _S.CANCELLED}),
    _S.WAITING: frozenset({_S.RUNNING, _S.PAUSED, _S.DONE, _S.CANCELLED}),
    _S.PAUSED: frozenset({_S.RUNNING, _S.SCHEDULED, _S.CANCELLED}),
    _S.DONE: frozenset(),
    _S.CANCELLED: frozenset(),
}


class TransitionNotAllowed(InvalidInput):
    def __init__(self, current: CampaignStatus, wanted: CampaignStatus) -> None:
        super().__init__(
            "status",
            field="status",
            problem="transition",
            current=current.value,
            wanted=wanted.value,
        )
        self.current = current
        self.wanted = wanted


class NotStartable(InvalidInput):
    """The campaign's pre-flight does not let it start (`start_problem`): nothing is wrong
    with the request, the campaign is not ready (HTTP 409, with the problem's sentence)."""

    code = "not_startable"


def can_move(current: CampaignStatus, wanted: CampaignStatus) -> bool:
    return wanted in TRANSITIONS[current]


def check_move(current: CampaignStatus, wanted: CampaignStatus) -> None:
    """Raises `TransitionNotAllowed` unless `current → wanted` is a legal step."""
    if not can_move(current, wanted):
        raise TransitionNotAllowed(current, wanted)


def start_status(start_at: datetime | None, now: datetime) -> CampaignStatus:
    """What "start" means: running now, or scheduled for a later start time."""
    return (
        CampaignStatus.SCHEDULED
        if start_at is not None and start_at > now
        else CampaignStatus.RUNNING
    )


def in_active_hours(now: datetime, from_hour: int | None, to_hour: int | None) -> bool:
    """Daily active hours in UTC, `[from, to)`; a window may wrap past midnight (22 → 6)."""
    if from_hour is None or to_hour is None or from_hour == to_hour:
        return True
    hour = now.hour
    if from_hour < to_hour:
        return from_hour <= hour < to_hour
    return hour >= from_hour or hour < to_hour


def next_active_start(now: datetime, from_hour: int | None, to_hour: int | None) -> datetime:
    """When the daily active hours next begin (now, when they already have)."""
    if in_active_hours(now, from_hour, to_hour) or from_hour is None:
        return now
    start = now.replace(hour=from_hour, minute=0, second=0, microsecond=0)
    return start if start > now else start + timedelta(days=1)


# --- targets -------------------------------------------------------------------------------
class TargetState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed: an invite may be on its way to Telegram
    # Telegram accepted the call without showing the person added: a membership check
    # decides later (invited, or failed `not_added`), never a second invite.
    UNCONFIRMED = "unconfirmed"
    INVITED = "invited"
    ALREADY_MEMBER = "already_member"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def final(self) -> bool:
        return self not in (TargetState.PENDING, TargetState.SENDING, TargetState.UNCONFIRMED)


# The states a target leaves no more, by value (read per page: no enum lookups).
FINAL_STATES = frozenset(s.value for s in TargetState if s.final)


class SkipReason(enum.StrEnum):
    OPTED_OUT = "opted_out"
    ATTEMPTED_BEFORE = "attempted_before"  # the chat's ledger already has this person
    UNREACHABLE = "unreachable"  # no username, and the account that saw them cannot invite
    DUPLICATE = "duplicate"  # listed twice in the audience (by id and by username)


class LedgerOutcome(enum.StrEnum):
    """What the workspace's ledger remembers for (target chat, person)."""

    SENDING = "sending"
    UNCONFIRMED = "unconfirmed"  # holds the person like any attempt: nobody invites them again
    INVITED = "invited"
    ALREADY_MEMBER = "already_member"
    FAILED = "failed"  # final: never tried again in this chat
    RETRY = "retry"  # a retryable failure: any campaign into this chat may try again
    # Invited, then found gone by a retention check (core/retention.py): like every outcome
    # but `retry`, it keeps the person out of every later campaign into this chat.
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class Effect:
    """What one attempt's result does."""

    state: TargetState
    ledger: LedgerOutcome
    reason: str | None
    retry: bool  # back to pending (after a delay)
    spends_quota: bool  # counts towards the account's limits
    follow_up: bool = False  # goes to the list the owner shares the invite link with
    refund: bool = False  # the attempt is given back: the refusal was not about the person
    error: str | None = None  # Telegram's error name, verbatim

    @property
    def retry_at_once(self) -> bool:
        """Back in the queue for another account now (not after the retry delay): the
        refusal was about the account or the chat, or another account may succeed."""
        return self.refund or self.reason == Reason.ADD_FAILED.value

    @property
    def event_outcome(self) -> str:
        """The outcome `invite_events` records: the final state, `unconfirmed`, or `retry`."""
        if self.state.final or self.state is TargetState.UNCONFIRMED:
            return self.state.value
        return "retry"


def effect_of(
    outcome: Outcome, reason: Reason | None = None, *, attempts: int = 1, max_attempts: int = 3
) -> Effect:
    """The consequence of one attempt that Telegram did not refuse with an error (DESIGN §7).

    `missing_invitee` (and `not_added`) are final and go to the follow-up list; a result
    nobody knows (the membership check found nobody, the network failed) sends the target
    back to pending unless it has used up its attempts. Refusals: `effect_of_refusal`.
    """
    if outcome is Outcome.INVITED:
        return Effect(TargetState.INVITED, LedgerOutcome.INVITED, None, False, True)
    if outcome is Outcome.ALREADY_MEMBER:
        return Effect(TargetState.ALREADY_MEMBER, LedgerOutcome.ALREADY_MEMBER, None, False, True)
    if outcome is Outcome.SKIPPED:
        return Effect(
            TargetState.SKIPPED,
            LedgerOutcome.FAILED,
            reason.value if reason else None,
            False,
            False,
        )
    if outcome is Outcome.UNCONFIRMED:
        return Effect(TargetState.UNCONFIRMED, LedgerOutcome.UNCONFIRMED, None, False, True)
    reason = reason or Reason.UNKNOWN
    if reason in (Reason.UNKNOWN, Reason.NETWORK) and attempts < max_attempts:
        return Effect(TargetState.PENDING, LedgerOutcome.RETRY, reason.value, True, True)
    return Effect(
        TargetState.FAILED,
        LedgerOutcome.FAILED,
        reason.value,
        False,
        True,
        follow_up=reason in FOLLOW_UP_REASONS,
    )


def effect_of_refusal(rpc: str, *, attempts: int) -> Effect:
    """What one of Telegram's refusals of an invite does to the person (`core.outcomes`).

    The account's and the chat's refusals give the person back to the queue at once, with
    the attempt refunded and no quota spent: nothing was the person's doing. A person's
    refusal is final. `CHAT_MEMBER_ADD_FAILED` goes to another account while tries are
    left; an unknown error is tried once more at most. `attempts` counts this one.
    """
    refusal = refusal_of(rpc)
    reason = refusal.reason.value
    if refusal.concerns in (Concerns.ACCOUNT, Concerns.CHAT):
        return Effect(
            TargetState.PENDING, LedgerOutcome.RETRY, reason, True, False, refund=True, error=rpc
        )
    if refusal.concerns is Concerns.PERSON:
        return Effect(
            TargetState.FAILED,
            LedgerOutcome.FAILED,
            reason,
            False,
            True,
            follow_up=refusal.reason in FOLLOW_UP_REASONS,
            error=rpc,
        )
    tries = ADD_FAILED_TRIES if refusal.concerns is Concerns.OTHER_ACCOUNT else UNKNOWN_TRIES
    if attempts < tries:
        return Effect(TargetState.PENDING, LedgerOutcome.RETRY, reason, True, True, error=rpc)
    return Effect(TargetState.FAILED, LedgerOutcome.FAILED, reason, False, True, error=rpc)


# --- pre-flight ------------------------------------------------------------------------------
class Exclusion(enum.StrEnum):
    NOT_A_MEMBER = "not_a_member"
    NOT_ADMIN = "not_admin"
    NO_INVITE_RIGHT = "no_invite_right"
    CANNOT_SEE_CHAT = "cannot_see_chat"
    UNAVAILABLE = "unavailable"  # unauthorized, banned, disabled, resting
    LIFETIME_CAP = "lifetime_cap"  # has already added its maximum into this chat
    LOST_RIGHTS = "lost_rights"  # Telegram refused it the right while the campaign ran


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What one account of the workspace knows about the target chat."""

    account_id: int
    label: str
    usable: bool = True
    sees_chat: bool = True
    member: bool = True
    creator: bool = False
    admin: bool = False
    can_invite: bool = False
    ever_in_chat: int = 0  # invites it has already sent into this chat


@dataclass(frozen=True, slots=True)
class PreflightFacts:
    kind: str | None  # "group" | "megagroup" | "channel"; None: nobody could resolve it
    title: str | None
    audience_size: int
    already_members: int  # audience people already in the chat
    attempted_before: int  # audience people the chat's ledger already has
    opted_out: int
    members: int | None = None  # the chat's member count, when Telegram said it
    accounts: Sequence[AccountFacts] = ()


@dataclass(frozen=True, slots=True)
class Preflight:
    kind: str | None
    title: str | None
    eligible: list[int]
    excluded: dict[int, str]
    to_invite: int
    already_members: int
    attempted_before: int
    opted_out: int
    days_to_finish: int | None
    warnings: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """The chat was found, an account may add people, and someone is left to invite (an
        empty audience is not "ready, about 0 days")."""
        return self.kind is not None and bool(self.eligible) and self.to_invite > 0

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "title": self.title,
            "eligible": self.eligible,
            "excluded": {str(k): v for k, v in self.excluded.items()},
            "to_invite": self.to_invite,
            "already_members": self.already_members,
            "attempted_before": self.attempted_before,
            "opted_out": self.opted_out,
            "days_to_finish": self.days_to_finish,
            "warnings": self.warnings,
            "ready": self.ready,
        }


def exclusion_of(facts: AccountFacts, limits: InviteLimits) -> Exclusion | None:
    """Why this account cannot invite into the chat, or None when it can."""
    if not facts.usable:
        return Exclusion.UNAVAILABLE
    if not facts.sees_chat:
        return Exclusion.CANNOT_SEE_CHAT
    if not facts.member:
        return Exclusion.NOT_A_MEMBER
    if not facts.creator:
        if not facts.admin:
            return Exclusion.NOT_ADMIN
        if not facts.can_invite:
            return Exclusion.NO_INVITE_RIGHT
    if facts.ever_in_chat >= limits.lifetime_per_chat:
        return Exclusion.LIFETIME_CAP
    return None


def preflight(facts: PreflightFacts, limits: InviteLimits) -> Preflight:
    """The owner's view before a start: which accounts will work, and how long it takes."""
    eligible: list[int] = []
    excluded: dict[int, str] = {}
    for account in facts.accounts:
        why = exclusion_of(account, limits)
        if why is None:
            eligible.append(account.account_id)
        else:
            excluded[account.account_id] = why.value
    to_invite = max(
        0, facts.audience_size - facts.already_members - facts.attempted_before - facts.opted_out
    )
    warnings: list[str] = []
    if facts.kind is None:
        warnings.append("target_not_found")
    elif not eligible:
        warnings.append("no_eligible_accounts")
    if facts.kind is not None and to_invite == 0:
        warnings.append("nobody_to_invite")
    if facts.kind == "channel":
        room = broadcast_room(facts.members)
        warnings.append("broadcast_200_cap")
        if room == 0:
            warnings.append("broadcast_full")
        elif to_invite > room:
            warnings.append("broadcast_cap_too_small")
    return Preflight(
        kind=facts.kind,
        title=facts.title,
        eligible=eligible,
        excluded=excluded,
        to_invite=to_invite,
        already_members=facts.already_members,
        attempted_before=facts.attempted_before,
        opted_out=facts.opted_out,
        days_to_finish=days_to_finish(to_invite, len(eligible), limits),
        warnings=warnings,
    )


def broadcast_room(members: int | None) -> int:
    """How many more people admins may add to a broadcast channel: none once it has 200
    members, however they came ("After 200 members you can't add any more readers by
    yourself", tdesktop#1597; a channel of 150 took only 50 more, Telethon#1434;
    MadelineProto#285). Unknown count: the whole cap, and the invites find out."""
    return max(0, BROADCAST_ADD_CAP - (members or 0))


def start_problem(preflight: Mapping[str, Any]) -> str | None:
    """Why a stored pre-flight does not let a campaign start (the problem code), or None:
    one rule for `CampaignService.start` and for the bot's Start button."""
    if not preflight:
        return "preflight_missing"
    if not preflight.get("kind"):
        return "target_not_found"
    if not preflight.get("eligible") and not preflight.get("unchecked"):
        return "no_eligible_accounts"  # an account busy during the check checks itself later
    if int(preflight.get("to_invite", 1) or 0) == 0:
        return "nobody_to_invite"  # everyone is in the chat, tried before or opted out
    if "broadcast_full" in (preflight.get("warnings") or ()):
        return "broadcast_full"  # every invite would be refused with USERS_TOO_MUCH
    return None


def eligible_ids(preflight_json: dict[str, object] | None) -> set[int] | None:
    """The eligible account ids a stored pre-flight named; None when there was none."""
    return _ids(preflight_json, "eligible")


def unchecked_ids(preflight_json: dict[str, object] | None) -> set[int]:
    """Accounts the pre-flight could not ask (busy): they check their rights themselves."""
    return _ids(preflight_json, "unchecked") or set()


def _ids(preflight_json: dict[str, object] | None, key: str) -> set[int] | None:
    if not preflight_json or key not in preflight_json:
        return None
    value = preflight_json[key]
    return {int(i) for i in value} if isinstance(value, Iterable) else None


# --- what Telegram says (plain facts from the gateway) ----------------------------------------
@dataclass(frozen=True, slots=True)
class TargetChat:
    """The campaign's chat as one account resolved it."""

    chat_id: int
    kind: str  # "group" (basic), "megagroup" or "channel" (broadcast)
    title: str
    username: str | None
    access_hash: int | None = None  # of the account that resolved it (channels only)
    # The basic group this supergroup was (core.telegram.org/constructor/chat `migrated_to`),
    # when the target was named by the old group: its ledger moves here (`follow_migration`).
    migrated_from: int | None = None


@dataclass(frozen=True, slots=True)
class ChatRights:
    member: bool
    creator: bool = False
    admin: bool = False
    can_invite: bool = False

    @property
    def may_invite(self) -> bool:
        """In the chat, and its creator or an admin allowed to add members."""
        return self.member and (self.creator or self.can_invite)


class Sent(enum.StrEnum):
    """What Telegram answered to one invite call (failures arrive as domain errors)."""

    ADDED = "added"  # the answer's updates show the service message adding the person
    MISSING_INVITEE = "missing_invitee"  # accepted by the API, but the person was not added
    ALREADY_MEMBER = "already_member"
    UNCONFIRMED = "unconfirmed"  # accepted, but the answer does not show the person added


def outcome_of_sent(sent: Sent) -> tuple[Outcome, Reason | None]:
    """An accepted call is `unconfirmed` until a membership check says the person is in the
    chat: even the service message adding them has been seen on real Telegram while the
    member list did not change (Telethon#1451, #3897, #298; tdlib#455). The check comes
    right after the call (`workers.inviting`), and never leads to a second invite."""
    if sent is Sent.ALREADY_MEMBER:
        return Outcome.ALREADY_MEMBER, None
    if sent is Sent.MISSING_INVITEE:
        return Outcome.FAILED, Reason.MISSING_INVITEE
    return Outcome.UNCONFIRMED, None
